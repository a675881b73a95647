// Client-side routing with real paths (History API): /rig, /rig/history,
// /rig/tests/42, /watermaker, /alarms, /login. The gateway answers
// index.html for these paths, so a reload or a bookmark lands here too.
import { store } from './store';

export interface Loc { path: string; query: URLSearchParams }

const read = (): Loc => ({ path: location.pathname.replace(/\/+$/, '') || '/',
                           query: new URLSearchParams(location.search) });

export const loc = store<Loc>(read());

export function navigate(to: string, replace = false) {
  const here = location.pathname + location.search;
  if (to !== here) {
    if (replace) history.replaceState(null, '', to);
    else history.pushState(null, '', to);
  }
  loc.set(read());
  if (!replace) window.scrollTo(0, 0);
}

addEventListener('popstate', () => loc.set(read()));

/** Plain left clicks on same-origin links change the route without a reload. */
addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('//')) return;
  // documents the gateway makes (reports, CSV) load as they are
  if (href.startsWith('/api/') || href.startsWith('/docs') || href.startsWith('/openapi')) return;
  e.preventDefault();
  navigate(href);
});

/** Matches "/a/:b/c" against a path; the parameters or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      if (!s[i]) return null;
      out[p[i].slice(1)] = decodeURIComponent(s[i]);
    } else if (p[i] !== s[i]) return null;
  }
  return out;
}
