// The shell: who is signed in, the machines, the live channel's state, the
// active alarms, and the screen of the route.
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, qs } from './api';
import { activeAlarms, refreshAlarms } from './alarms';
import { loc, match, navigate } from './router';
import { canRead, logout, machines, me, refreshMachines, refreshMe } from './session';
import { channel, getSocket, on, plc, reconnect } from './live';
import { useStore } from './store';
import { alarmName, time } from './format';
import { RigScreen } from './screens/Rig';
import { HistoryScreen } from './screens/History';
import { TestScreen } from './screens/Test';
import { WatermakerScreen } from './screens/Watermaker';
import { AlarmsScreen } from './screens/Alarms';
import { LoginScreen } from './screens/Login';
import { NotFound } from './screens/common';

export function App() {
  const m = useStore(me);
  const l = useStore(loc);
  const [bootError, setBootError] = useState('');
  const [booted, setBooted] = useState(false);

  const boot = async () => {
    setBootError('');
    try {
      const who = await refreshMe();
      if (canRead(who)) await refreshMachines();
      setBooted(true);
    } catch (e) {
      setBootError(errorText(e));
    }
  };
  useEffect(() => { boot(); }, []);

  // once the user may read: machines, the live channel, the alarms
  const reader = canRead(m);
  useEffect(() => {
    if (!reader) return;
    refreshMachines().catch((e) => { if (!machines.get().length) setBootError(errorText(e)); });
    getSocket();
    refreshAlarms();
    const offs = [
      on('alarm', () => refreshAlarms()),
      on('connect', () => refreshAlarms()),
    ];
    const t = setInterval(refreshAlarms, 30000);
    return () => { offs.forEach((f) => f()); clearInterval(t); };
  }, [reader, m?.user]);

  // after a change of route, the new screen is where the keyboard goes on
  const firstPath = useRef(l.path);
  useEffect(() => {
    if (l.path === firstPath.current) return;
    firstPath.current = '';
    requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }));
  }, [l.path]);

  // who may not read signs in first
  useEffect(() => {
    if (booted && m && !canRead(m) && l.path !== '/login')
      navigate(`/login${qs({ next: l.path + (l.query.toString() ? `?${l.query}` : '') })}`, true);
  }, [booted, m, l.path]);

  if (bootError) {
    return (
      <main class="boot-error" id="main">
        <h1>The gateway does not answer</h1>
        <p role="alert">{bootError}</p>
        <button type="button" class="btn btn-primary" onClick={boot}>Try again</button>
      </main>
    );
  }
  if (!booted || !m) return <main id="main" class="boot"><p>Loading…</p></main>;

  if (l.path === '/login' || !canRead(m)) {
    return (
      <>
        <a class="skip" href="#main">Skip to the content</a>
        <main id="main"><LoginScreen next={l.query.get('next') || '/'} /></main>
      </>
    );
  }

  return (
    <>
      <a class="skip" href="#main">Skip to the content</a>
      <Header />
      <AlarmBanner />
      <main id="main" tabIndex={-1}>
        <Route />
      </main>
    </>
  );
}

function Route() {
  const l = useStore(loc);
  const list = useStore(machines);
  const path = l.path;
  if (path === '/') {
    const first = list.find((x) => x.default) || list[0];
    if (first) { queueMicrotask(() => navigate(`/${encodeURIComponent(first.id)}`, true)); }
    return <p class="screen">Loading the machines…</p>;
  }
  if (path === '/alarms') return <AlarmsScreen />;
  let p: Record<string, string> | null;
  const byId = (id: string) => list.find((x) => x.id === id);
  if (!list.length) return <p class="screen">Loading the machines…</p>;
  if ((p = match('/:m', path))) {
    const mc = byId(p.m);
    if (mc?.profile === 'ringstiff') return <RigScreen key={mc.id} machine={mc} />;
    if (mc?.profile === 'watermaker') return <WatermakerScreen key={mc.id} machine={mc} />;
    if (mc) return <NotFound what={`This HMI has no screen for ${mc.name} (profile ${mc.profile}).`} />;
  }
  if ((p = match('/:m/history', path))) {
    const mc = byId(p.m);
    if (mc?.profile === 'ringstiff') return <HistoryScreen key={mc.id} machine={mc} />;
  }
  if ((p = match('/:m/tests/:id', path))) {
    const mc = byId(p.m);
    if (mc?.profile === 'ringstiff' && /^\d+$/.test(p.id)) return <TestScreen key={p.id} machine={mc} testId={+p.id} />;
  }
  return <NotFound what={`There is no page at ${path}.`} />;
}

function Header() {
  const m = useStore(me)!;
  const list = useStore(machines);
  const ch = useStore(channel);
  const plcs = useStore(plc);
  const l = useStore(loc);
  const al = useStore(activeAlarms);
  const [busy, setBusy] = useState(false);
  const current = l.path.split('/')[1] || '';

  const signOut = async () => {
    setBusy(true);
    try {
      await logout();
    } catch { /* the session is gone either way */ }
    setBusy(false);
    reconnect();
    navigate('/login', true);
  };

  const chText = ch.state === 'connected' ? 'Live' : ch.state === 'connecting' ? 'Connecting…' : 'Offline';
  return (
    <header class="topbar">
      <a class="brand" href="/" aria-label="plcgw HMI: start">plcgw</a>
      <nav class="machines" aria-label="Machines">
        <ul>
          {list.map((mc) => {
            const up = plcs[mc.id]?.connected ?? mc.connected;
            const known = ch.state === 'connected';
            return (
              <li key={mc.id}>
                <a href={`/${encodeURIComponent(mc.id)}`} aria-current={current === mc.id ? 'page' : undefined}
                  title={`${mc.name}: PLC ${up ? 'connected' : 'not connected'}`}>
                  <span class={`dot ${!known ? 'dot-unknown' : up ? 'dot-ok' : 'dot-bad'}`} aria-hidden="true" />
                  {mc.profile === 'ringstiff' ? 'Rig' : mc.profile === 'watermaker' ? 'Watermaker' : mc.name}
                  <span class="sr-only">{` (${mc.name}; PLC ${up ? 'connected' : 'not connected'})`}</span>
                </a>
              </li>
            );
          })}
          <li>
            <a href="/alarms" aria-current={current === 'alarms' ? 'page' : undefined}>
              Alarms{al.list?.total ? <span class="badge" aria-label={`${al.list.total} active`}>{al.list.total}</span> : null}
            </a>
          </li>
        </ul>
      </nav>
      <div class="topbar-right">
        <span class={`chan chan-${ch.state}`} role="status" title={ch.error ? `Live channel: ${ch.error}` : 'Live channel'}>
          <span class="dot" aria-hidden="true" /> <span class="sr-only">Live channel: </span>{chText}
        </span>
        <span class="who">
          <span class="who-name">{m.user ?? 'Anonymous'}</span>
          <span class={`role role-${m.role}`}>{m.role}</span>
        </span>
        {m.user ? (
          <button type="button" class="btn btn-small" onClick={signOut} disabled={busy}>Sign out</button>
        ) : (
          <a class="btn btn-small" href={`/login${qs({ next: l.path })}`}>Sign in</a>
        )}
      </div>
    </header>
  );
}

function AlarmBanner() {
  const { list, error } = useStore(activeAlarms);
  const l = useStore(loc);
  if (error && !list) return <div class="alarm-banner alarm-banner-err" role="status">Alarms: {error}</div>;
  if (!list || !list.total) return null;
  const a = list.alarms[0];
  return (
    <section class="alarm-banner" aria-label="Active alarms">
      <span class="alarm-icon" aria-hidden="true">!</span>
      <span class="alarm-text">
        <strong>{list.total} active alarm{list.total > 1 ? 's' : ''}</strong>
        {a && <> · latest: <strong>{alarmName(a.name)}</strong> on {a.machine_id} at {time(a.timestamp)}: {a.message}</>}
      </span>
      {l.path !== '/alarms' && <a class="btn btn-small btn-on-dark" href="/alarms">Show alarms</a>}
    </section>
  );
}
