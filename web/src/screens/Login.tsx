import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../api';
import { login, me } from '../session';
import { navigate } from '../router';
import { reconnect } from '../live';
import { useStore } from '../store';
import { useTitle } from '../components/ui';

export function LoginScreen({ next }: { next: string }) {
  useTitle('Sign in');
  const m = useStore(me);
  const [user, setUser] = useState('');
  const [pass, setPass] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => { first.current?.focus(); }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!user || !pass) { setErr('Enter your user name and password.'); return; }
    setBusy(true);
    setErr('');
    try {
      await login(user, pass);
      reconnect();
      navigate(next.startsWith('/') && !next.startsWith('//') && next !== '/login' ? next : '/', true);
    } catch (e2) {
      setErr(errorText(e2));
      setPass('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <form class="panel login-form" onSubmit={submit} noValidate aria-labelledby="login-h">
        <h1 id="login-h">Sign in</h1>
        <p class="muted">plcgw machine HMI</p>
        {m?.user && <p>Signed in as <strong>{m.user}</strong> ({m.role}). Sign in as someone else:</p>}
        {!m?.user && m?.role === 'viewer' &&
          <p class="muted">Without signing in this panel may only look. Operators sign in to run the machines.</p>}
        <div class="field">
          <label for="login-user">User name</label>
          <input id="login-user" ref={first} autoComplete="username" autoCapitalize="none" spellcheck={false}
            value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="login-pass">Password</label>
          <input id="login-pass" type="password" autoComplete="current-password"
            value={pass} onInput={(e) => setPass((e.target as HTMLInputElement).value)} />
        </div>
        {err && <div class="notice notice-error" role="alert">{err}</div>}
        <button type="submit" class="btn btn-primary btn-wide" disabled={busy} aria-busy={busy ? 'true' : undefined}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {m?.role === 'viewer' && <p><a href="/">Continue without signing in (view only)</a></p>}
      </form>
    </div>
  );
}
