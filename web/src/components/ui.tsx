// Small building blocks shared by the screens.
import { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../api';
import { Role } from '../api';
import { me, roleReason } from '../session';
import { useStore } from '../store';

let nextId = 0;
export function useId(prefix = 'id'): string {
  const ref = useRef<string>();
  if (!ref.current) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

/** A problem's detail, or a success note, where the user looks. */
export function Notice({ kind, children, onClose }: {
  kind: 'error' | 'ok' | 'info' | 'warn'; children: ComponentChildren; onClose?: () => void;
}) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <div class="notice-text">{children}</div>
      {onClose && (
        <button type="button" class="notice-close" onClick={onClose} aria-label="Dismiss">×</button>
      )}
    </div>
  );
}

export interface CmdMsg { kind: 'ok' | 'error'; text: string; at: number }

/**
 * Runs commands one at a time for a screen: `busy` names the one in flight,
 * `msg` is the last outcome (the problem's detail when it failed).
 */
export function useCommands() {
  const [busy, setBusy] = useState<string | null>(null);
  const [msg, setMsg] = useState<CmdMsg | null>(null);
  const run = useCallback(async <T,>(label: string, fn: () => Promise<T>, okText?: (r: T) => string) => {
    setBusy(label);
    try {
      const r = await fn();
      setMsg({ kind: 'ok', text: okText ? okText(r) : `${label}: done`, at: Date.now() });
      return r;
    } catch (e) {
      setMsg({ kind: 'error', text: `${label}: ${errorText(e)}`, at: Date.now() });
      return undefined;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, msg, setMsg, run };
}

export function CmdMessage({ msg, onClose }: { msg: CmdMsg | null; onClose: () => void }) {
  // a success note fades after a while; a failure stays until dismissed
  useEffect(() => {
    if (msg?.kind !== 'ok') return;
    const t = setTimeout(onClose, 6000);
    return () => clearTimeout(t);
  }, [msg]);
  return (
    <div class="cmd-msg" aria-live="polite">
      {msg && <Notice kind={msg.kind} onClose={onClose}>{msg.text}</Notice>}
    </div>
  );
}

type BtnProps = Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, 'disabled' | 'title'> & {
  need?: Role;
  /** another reason why it cannot be used now (the PLC is disconnected, ...) */
  blocked?: string;
  busy?: boolean;
  title?: string;
};

/**
 * A command button: disabled, with the reason in its title and its
 * accessible description, when the user's role is too small or `blocked`.
 */
export function CmdButton({ need = 'operator', blocked, busy, title, children, class: cls, ...rest }: BtnProps) {
  const m = useStore(me);
  const id = useId('why');
  const reason = roleReason(m, need) || blocked || '';
  return (
    <>
      <button type="button" {...rest} class={`btn ${cls || ''}`} disabled={!!reason || busy}
        aria-busy={busy ? 'true' : undefined} title={reason || title}
        aria-describedby={reason ? id : undefined}>
        {children}
      </button>
      {reason && <span id={id} class="sr-only">{reason}</span>}
    </>
  );
}

export function Pager({ page, pages, total, onPage, label }: {
  page: number; pages: number; total: number; onPage: (p: number) => void; label: string;
}) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="btn btn-small" disabled={page <= 1} onClick={() => onPage(1)}>
        First
      </button>
      <button type="button" class="btn btn-small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span class="pager-pos" aria-live="polite">
        Page {pages ? page : 0} of {pages} · {total} in all
      </span>
      <button type="button" class="btn btn-small" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
      <button type="button" class="btn btn-small" disabled={page >= pages} onClick={() => onPage(pages)}>
        Last
      </button>
    </nav>
  );
}

/** A modal dialog (the native <dialog>: focus is kept inside, Esc closes it). */
export function Dialog({ open, onClose, title, children, wide }: {
  open: boolean; onClose: () => void; title: string; children: ComponentChildren; wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId('dlg');
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class={`dialog ${wide ? 'dialog-wide' : ''}`} aria-labelledby={titleId}
      onClose={onClose} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <h2 id={titleId} class="dialog-title">{title}</h2>
      {open && children}
    </dialog>
  );
}

export function Progress({ value, label }: { value: number | null | undefined; label: string }) {
  const v = value === null || value === undefined || !Number.isFinite(value) ? 0 :
    Math.max(0, Math.min(100, value));
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuemin={0}
      aria-valuemax={100} aria-valuenow={Math.round(v)}>
      <div class="progress-bar" style={{ width: `${v}%` }} />
      <span class="progress-text">{v.toFixed(0)} %</span>
    </div>
  );
}

/** A boolean state as a labelled lamp. */
export function Lamp({ label, on, kind = 'ok', onText = 'On', offText = 'Off', stale, offBad }: {
  label: string; on: boolean | null | undefined; kind?: 'ok' | 'bad' | 'info';
  onText?: string; offText?: string; stale?: boolean; offBad?: boolean;
}) {
  const state = on === null || on === undefined ? 'unknown' : on ? 'on' : 'off';
  return (
    <div class={`lamp lamp-${state} lamp-${kind} ${stale ? 'stale' : ''} ${offBad && state === 'off' ? 'lamp-alarm' : ''}`}>
      <span class="lamp-dot" aria-hidden="true" />
      <span class="lamp-label">{label}</span>
      <span class="lamp-value">{state === 'unknown' ? '—' : on ? onText : offText}</span>
    </div>
  );
}

/** Loads something on mount (and when deps change); reload() fetches it again. */
export function useLoad<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string>('');
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    fn(ctl.signal).then((d) => {
      if (ctl.signal.aborted) return;
      setData(d);
      setError('');
    }).catch((e) => {
      if (ctl.signal.aborted || (e as Error).name === 'AbortError') return;
      setError(errorText(e));
    }).finally(() => {
      if (!ctl.signal.aborted) setLoading(false);
    });
    return () => ctl.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

export function useInterval(fn: () => void, ms: number, deps: unknown[] = []) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [ms, ...deps]);
}

export function useTitle(t: string) {
  useEffect(() => { document.title = `${t} · plcgw HMI`; }, [t]);
}
