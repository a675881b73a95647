import { Machine, qs } from '../api';
import { hasRole, me } from '../session';
import { useStore } from '../store';

/** Says why the commands are disabled for a viewer, with a way to sign in. */
export function RoleNote({ back }: { back: string }) {
  const m = useStore(me);
  if (hasRole(m, 'operator')) return null;
  return (
    <p class="role-note">
      {m?.user ? `Signed in as ${m.user} (${m.role})` : `Not signed in (${m?.role ?? 'public'})`}: you see the
      values and the history; the commands need the operator role.{' '}
      <a href={`/login${qs({ next: back })}`}>Sign in as an operator</a>
    </p>
  );
}

/** The rig's own pages: its live screen and its test history. */
export function MachineTabs({ machine, current }: { machine: Machine; current: 'live' | 'history' | 'test' }) {
  if (machine.profile !== 'ringstiff') return null;
  const base = `/${encodeURIComponent(machine.id)}`;
  return (
    <nav class="tabs" aria-label={`${machine.name} pages`}>
      <a href={base} aria-current={current === 'live' ? 'page' : undefined}>Live</a>
      <a href={`${base}/history`} aria-current={current === 'history' ? 'page' : undefined}>History</a>
    </nav>
  );
}

export function NotFound({ what }: { what: string }) {
  return (
    <div class="screen">
      <h1>Not found</h1>
      <p>{what}</p>
      <p><a href="/">Back to the start</a></p>
    </div>
  );
}
