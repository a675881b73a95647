// Hold-to-run jog over the live channel (docs/live.md, "Hold-to-run jog").
// Pressing a button emits jog_forward/jog_backward {state: true} and renews
// it every 100 ms; releasing it (pointerup, pointercancel, pointerleave, the
// key let go, focus lost), the window losing focus, the page hidden, the
// socket gone, or the server releasing it emits {state: false} and stops
// the renewals. Only one direction is held at a time.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getSocket, on } from '../live';
import { me, roleReason } from '../session';
import { useStore } from '../store';
import { useId } from './ui';
import { time } from '../format';

type Dir = 'forward' | 'backward';
interface JogStatus { machine: string; direction: string; active: boolean; reason: string; at: number }

export function JogPad({ machine, blocked }: { machine: string; blocked: string }) {
  const m = useStore(me);
  const reason = roleReason(m, 'operator') || blocked;
  const [held, setHeld] = useState<Dir | null>(null);
  const [log, setLog] = useState<JogStatus[]>([]);
  const [error, setError] = useState('');
  const heldRef = useRef<Dir | null>(null);
  const timer = useRef<number | undefined>(undefined);
  const whyId = useId('jogwhy');

  const release = (why?: string) => {
    const dir = heldRef.current;
    if (!dir) return;
    heldRef.current = null;
    clearInterval(timer.current);
    timer.current = undefined;
    setHeld(null);
    getSocket().emit(`jog_${dir}`, { state: false, machine });
    if (why) setError(why);
  };

  const press = (dir: Dir) => {
    if (reason || heldRef.current) return;
    const s = getSocket();
    if (!s.connected) {
      setError('The live channel is not connected: jogging needs it.');
      return;
    }
    setError('');
    heldRef.current = dir;
    setHeld(dir);
    const answer = (a: { ok: boolean; error?: string } | undefined) => {
      if (a && a.ok === false && heldRef.current === dir) release(a.error || 'the jog was refused');
    };
    s.emit(`jog_${dir}`, { state: true, machine }, answer);
    timer.current = window.setInterval(() => {
      if (heldRef.current !== dir) return;
      // a renewal that cannot go now is dropped, not queued
      getSocket().volatile.emit(`jog_${dir}`, { state: true, machine }, answer);
    }, 100);
  };

  useEffect(() => {
    const s = getSocket();
    const off = () => release();
    const vis = () => { if (document.visibilityState === 'hidden') release(); };
    const gone = () => release('The live channel was lost: the jog was released.');
    addEventListener('blur', off);
    document.addEventListener('visibilitychange', vis);
    s.on('disconnect', gone);
    const offStatus = on<Omit<JogStatus, 'at'>>('jog_status', (d) => {
      if (d.machine && d.machine !== machine) return;
      setLog((l) => [{ ...d, at: Date.now() }, ...l].slice(0, 4));
      // the server released it (no renewal in time, the PLC, a second client):
      // stop renewing and say so; {state:false} lets the next press start again
      if (!d.active && heldRef.current && d.reason !== 'released by the operator')
        release(`Jog released: ${d.reason}`);
    });
    return () => {
      removeEventListener('blur', off);
      document.removeEventListener('visibilitychange', vis);
      s.off('disconnect', gone);
      offStatus();
      release();
    };
  }, [machine]);

  // a reason that appears while a button is held (the PLC went) releases it
  useEffect(() => { if (reason) release(); }, [reason]);

  const handlers = (dir: Dir) => ({
    onPointerDown: (e: PointerEvent) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault();
      (e.currentTarget as HTMLElement).focus();
      press(dir);
    },
    // touch captures the pointer implicitly: without the capture, sliding
    // the finger off the button is a pointerleave, which releases the jog
    onGotPointerCapture: (e: PointerEvent) => {
      try { (e.target as Element).releasePointerCapture(e.pointerId); } catch { /* gone already */ }
    },
    onPointerMove: (e: PointerEvent) => {
      // a finger that slides off the button lets go of it, captured or not
      if (!heldRef.current) return;
      const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) release();
    },
    onPointerUp: () => release(),
    onPointerCancel: () => release(),
    onPointerLeave: () => release(),
    onContextMenu: (e: Event) => e.preventDefault(),
    onKeyDown: (e: KeyboardEvent) => {
      if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) { e.preventDefault(); press(dir); }
    },
    onKeyUp: (e: KeyboardEvent) => {
      if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); release(); }
    },
    onBlur: () => release(),
  });

  const btn = (dir: Dir, text: string, sub: string) => (
    <button type="button" class={`btn jog ${held === dir ? 'jog-held' : ''}`}
      disabled={!!reason} aria-pressed={held === dir}
      title={reason || `Hold to jog ${sub}; release to stop`}
      aria-describedby={reason ? whyId : undefined} {...handlers(dir)}>
      <span class="jog-arrow" aria-hidden="true">{dir === 'backward' ? '▲' : '▼'}</span>
      <span>{text}</span>
      <small>{sub}</small>
    </button>
  );

  return (
    <div class="jogpad">
      <div class="jog-buttons">
        {btn('backward', 'Jog up', 'backward')}
        {btn('forward', 'Jog down', 'forward')}
      </div>
      {reason && <span id={whyId} class="sr-only">{reason}</span>}
      <div class="jog-status" aria-live="polite">
        {error ? <span class="text-bad">{error}</span> :
          held ? <span class="text-ok">Jogging {held === 'forward' ? 'down' : 'up'} — release to stop</span> :
          log[0] ? <span>{time(log[0].at)} {log[0].direction}: {log[0].active ? 'running' : 'released'}
            {log[0].reason ? ` (${log[0].reason})` : ''}</span> :
          <span class="muted">Hold to jog; release to stop.</span>}
      </div>
    </div>
  );
}
