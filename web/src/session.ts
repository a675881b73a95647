// Who is signed in (the session cookie, or an anonymous loopback viewer),
// their role, and the machines of the gateway.
import { get, post, onUnauthorized, Me, Machine, Role } from './api';
import { store } from './store';

export const me = store<Me | null>(null);
export const machines = store<Machine[]>([]);

const rank: Record<Role, number> = { public: 0, viewer: 1, operator: 2, admin: 3 };

export function hasRole(m: Me | null, need: Role): boolean {
  return !!m && rank[m.role] >= rank[need];
}

/** Why a control that needs `need` is disabled for `m`, or '' when it is not. */
export function roleReason(m: Me | null, need: Role): string {
  if (hasRole(m, need)) return '';
  const who = m?.user ? `${m.user} is a ${m.role}` : `you are not signed in (${m?.role ?? 'public'})`;
  return `Needs the ${need} role: ${who}. Sign in as an ${need} to use it.`;
}

/** An anonymous request that the gateway lets read (auth.loopback_viewer). */
export const canRead = (m: Me | null) => hasRole(m, 'viewer');

export async function refreshMe(): Promise<Me> {
  const m = await get<Me>('/api/auth/me');
  me.set(m);
  return m;
}

export async function refreshMachines(): Promise<Machine[]> {
  const list = await get<Machine[]>('/api/machines');
  machines.set(list);
  return list;
}

export async function login(username: string, password: string) {
  await post('/api/auth/login', { username, password });
  await refreshMe();
}

export async function logout() {
  try {
    await post('/api/auth/logout', {});
  } finally {
    await refreshMe().catch(() => me.set({ user: null, role: 'public' }));
  }
}

let checking = false;
onUnauthorized(() => {
  // the cookie ran out or the user was disabled: ask who we are now
  if (checking) return;
  checking = true;
  refreshMe().catch(() => undefined).finally(() => { checking = false; });
});

/** The screen of a machine: its profile decides. */
export function machinePath(m: Machine): string {
  return `/${encodeURIComponent(m.id)}`;
}
