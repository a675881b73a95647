// The watermaker: its mode, sensors, outputs, counters and clock, and the
// DTS sequences run as tasks (docs/watermaker.md).
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, get, post, DtsProgress, DtsTask, Machine, R1000Monitor, WmAll, WmEntry, WmErrors } from '../api';
import { channel, channelLost, on, plc, subscribe } from '../live';
import { useStore } from '../store';
import { age, dateTime, num, time } from '../format';
import { RoleNote } from './common';
import { CmdButton, CmdMessage, Lamp, Notice, Progress, useCommands, useInterval, useTitle } from '../components/ui';

interface WmLive {
  machine: string; connected: boolean; age_ms: number;
  mode: { value: number | null; name: string | null };
  system_status: { value: number | null; meaning: string | null };
  sensors: Record<string, number | null>;
  timers: Record<string, { seconds: number | null; active: boolean; progress: number }>;
  outputs: Record<string, boolean | null>;
}

const CATEGORIES: { key: string; title: string }[] = [
  { key: 'pressure', title: 'Pressure' }, { key: 'temperature', title: 'Temperature' },
  { key: 'flow', title: 'Flow' }, { key: 'quality', title: 'Quality' },
];

export function WatermakerScreen({ machine }: { machine: Machine }) {
  const id = machine.id;
  const base = `/api/machines/${encodeURIComponent(id)}`;
  useTitle(machine.name);
  const ch = useStore(channel);
  const plcState = useStore(plc)[id];
  const [all, setAll] = useState<WmAll | null>(null);
  const [allErr, setAllErr] = useState('');
  const [live, setLive] = useState<WmLive | null>(null);
  const lastRx = useRef(0);
  const [task, setTask] = useState<DtsTask | null>(null);
  const [prog, setProg] = useState<DtsProgress | null>(null);
  const [mon, setMon] = useState<R1000Monitor | null>(null);
  const [errs, setErrs] = useState<WmErrors | null>(null);
  const [sideErr, setSideErr] = useState('');
  const cmds = useCommands();

  const loadAll = () => get<WmAll>(`${base}/all`).then((d) => { setAll(d); setAllErr(''); })
    .catch((e) => setAllErr(errorText(e)));
  const loadTask = () => get<DtsTask>(`${base}/dts/status`).then(setTask).catch((e) => setSideErr(errorText(e)));
  const [progErr, setProgErr] = useState('');
  const loadProg = () => get<DtsProgress>(`${base}/dts/current-step-progress`)
    .then((p) => { setProg(p); setProgErr(''); }).catch((e) => setProgErr(errorText(e)));
  const loadMon = () => get<R1000Monitor>(`${base}/dts/r1000-monitor`).then(setMon).catch((e) => setSideErr(errorText(e)));
  const loadErrs = () => get<WmErrors>(`${base}/errors`).then(setErrs).catch((e) => setSideErr(errorText(e)));

  useEffect(() => {
    loadAll(); loadTask(); loadProg(); loadMon(); loadErrs();
    const unsub = subscribe(id);
    const offs = [
      on<WmLive>('live_data', (d) => { if (d.machine === id) { lastRx.current = Date.now(); setLive(d); } }),
      on<DtsTask>('dts_task', (d) => {
        if (d.machine && d.machine !== id) return;
        setTask(d);
        loadProg();
        if (d.state === 'failed') loadErrs();
      }),
      on<{ machine: string }>('mode_change', (d) => { if (d.machine === id) { loadMon(); loadProg(); } }),
    ];
    return () => { unsub(); offs.forEach((f) => f()); };
  }, [id]);
  useInterval(loadProg, 1000, [id]);
  useInterval(loadAll, 5000, [id]);
  useInterval(() => { loadMon(); loadErrs(); if (task?.state === 'running') loadTask(); }, 10000, [id, task?.state]);
  const [, tick] = useState(0);
  useInterval(() => tick((x) => x + 1), 1000);

  const silence = lastRx.current ? Date.now() - lastRx.current : Infinity;
  const connected = live ? live.connected && plcState?.connected !== false : all ? all.connected : plcState?.connected ?? machine.connected;
  // before the first live_data the values are /all's: stale by their own age
  // (not by a silence that has not begun), so the screen is not greyed out
  // while the live channel makes its first connection
  const lost = channelLost(ch);
  const stale = !connected || lost || (live || !all ? silence > 3000 : all.age_ms > 3000);
  const noPlc = !connected ? 'The PLC is not connected' : '';
  const mode = live?.mode ?? all?.mode ?? null;
  const sysStatus = live?.system_status ?? (all?.system?.system_status
    ? { value: all.system.system_status.value, meaning: all.system.system_status.value_text ?? null } : null);
  const running = task?.state === 'running';

  const dts = (label: string, path: string) =>
    cmds.run(label, () => post<DtsTask>(`${base}/dts/${path}`, {}), (t) => {
      if (t && t.task_id) setTask(t);
      return t?.task_id ? `${label}: task ${t.task_id} accepted (${t.steps_total ?? '?'} steps)` : `${label}: done`;
    });

  const sensorValue = (key: string, e: WmEntry) =>
    live?.sensors && key in live.sensors ? live.sensors[key] : e.value;
  const outputOn = (key: string, e: WmEntry) =>
    live?.outputs && key in live.outputs ? live.outputs[key] : e.on ?? null;

  return (
    <div class="screen wm-screen">
      <div class="screen-head">
        <h1>{machine.name}</h1>
        <span class="mode-chip" title="System Mode (R1000)">
          Mode <strong>{mode?.value ?? '—'}</strong>: {mode?.name ?? 'unknown'}
        </span>
        <span class="muted">Status: {sysStatus?.meaning ?? '—'}{sysStatus?.value !== undefined && sysStatus?.value !== null ? ` (${sysStatus.value})` : ''}</span>
        <span class={`age ${stale ? 'age-stale' : ''}`}>
          {live ? `values ${age(live.age_ms + (silence === Infinity ? 0 : silence))} old` : all ? `values ${age(all.age_ms)} old` : ''}
        </span>
      </div>
      {(!connected || lost) && (
        <div class="plc-banner" role="alert">
          <strong>{!connected ? 'PLC CONNECTION LOST' : 'LIVE CHANNEL LOST'}</strong>
          <span>{!connected ? `The watermaker's PLC does not answer${plcState?.error ? `: ${plcState.error}` : ''}.` :
            'The gateway\'s live channel is down; reconnecting.'} The values shown may be old.</span>
        </div>
      )}
      <RoleNote back={`/${id}`} />
      {allErr && <Notice kind="error">{allErr}</Notice>}
      {sideErr && <Notice kind="error" onClose={() => setSideErr('')}>{sideErr}</Notice>}

      <div class="wm-grid">
        <section class="panel" aria-labelledby="dts-h">
          <h2 id="dts-h">DTS</h2>
          <div class="btn-grid">
            <CmdButton class="btn-start" blocked={noPlc} busy={cmds.busy === 'DTS start'}
              title="From Standby (2, 65535) or DTS Request (34)" onClick={() => dts('DTS start', 'start')}>Start</CmdButton>
            <CmdButton class="btn-danger" blocked={noPlc} busy={cmds.busy === 'DTS stop'}
              title="From priming (5), production (7) or the flush (8)" onClick={() => dts('DTS stop', 'stop')}>Stop</CmdButton>
            <CmdButton blocked={noPlc} busy={cmds.busy === 'DTS skip'}
              title="Skip priming (5) or the init (6)" onClick={() => dts('DTS skip', 'skip')}>Skip step</CmdButton>
            <CmdButton busy={cmds.busy === 'Cancel task'} blocked={running ? '' : 'No DTS task is running'}
              onClick={() => cmds.run('Cancel task', () => post<DtsTask>(`${base}/dts/cancel`, {}), (t) => {
                if (t?.task_id) setTask(t);
                return `Task ${t?.task_id ?? ''} cancelled`;
              })}>Cancel task</CmdButton>
          </div>
          <CmdMessage msg={cmds.msg} onClose={() => cmds.setMsg(null)} />

          <h3>Current step</h3>
          {progErr && <Notice kind="error">{progErr}</Notice>}
          {prog ? (
            <div class="step">
              <p><strong>{prog.mode_name ?? '—'}</strong>{prog.mode !== null ? ` (${prog.mode})` : ''}</p>
              {prog.timer ? (
                <>
                  <p class="muted">{prog.timer.name} ({prog.timer.register}): {prog.timer.active
                    ? `${num(prog.timer.remaining_s, 1)} s of ${num(prog.timer.initial_s, 0)} s left` : 'not running'}</p>
                  <Progress value={prog.progress} label={`${prog.timer.name} progress`} />
                </>
              ) : <p class="muted">{prog.note || 'This mode has no step timer.'}</p>}
            </div>
          ) : <p class="muted">…</p>}

          <h3>Task</h3>
          {task && task.task_id ? (
            <div class="task">
              <p>
                <strong>{task.task_id}</strong> · {task.kind} · <span class={`tag tag-${task.state}`}>{task.state}</span>
                {task.requested_by ? <span class="muted"> · by {task.requested_by}</span> : null}
              </p>
              <p class="muted">Step {task.step ?? 0} of {task.steps_total ?? 0}{task.created ? ` · started ${time(task.created)}` : ''}
                {task.finished ? ` · ended ${time(task.finished)}` : ''}</p>
              <Progress value={task.progress} label={`Task ${task.task_id} progress`} />
              {task.error && <Notice kind="error">{task.error}</Notice>}
              <ol class="steps">
                {(task.steps || []).map((s) => (
                  <li key={s.step} class={`step-${s.state.replace(/\s+/g, '-')}`}>
                    <span class="step-state">{s.state}</span> {s.what}
                  </li>
                ))}
              </ol>
            </div>
          ) : <p class="muted">No task yet.</p>}
        </section>

        <div class="wm-col">
          <section class="panel" aria-labelledby="sensors-h">
            <h2 id="sensors-h">Sensors</h2>
            <div class={`sensor-cats ${stale ? 'stale' : ''}`}>
              {CATEGORIES.map((c) => {
                const entries = Object.entries(all?.sensors || {}).filter(([, e]) => e.category === c.key);
                if (!entries.length) return null;
                return (
                  <div class="sensor-cat" key={c.key}>
                    <h3>{c.title}</h3>
                    <dl class="kv">
                      {entries.map(([k, e]) => {
                        const v = sensorValue(k, e);
                        return (
                          <Fragment key={k}>
                            <dt>{e.parameter}</dt>
                            <dd class="num">
                              {v === null || v === undefined ? <span class="muted" title={`quality: ${e.quality}`}>—</span>
                                : e.raw !== undefined ? v.toFixed(1) : v}
                              {e.unit ? <span class="unit"> {e.unit}</span> : null}
                            </dd>
                          </Fragment>
                        );
                      })}
                    </dl>
                  </div>
                );
              })}
              {!all && !allErr && <p class="muted">Loading…</p>}
            </div>
          </section>
          <section class="panel" aria-labelledby="outputs-h">
            <h2 id="outputs-h">Outputs</h2>
            <div class="lamps lamps-2">
              {Object.entries(all?.outputs || {}).map(([k, e]) => (
                <Lamp key={k} label={e.parameter} on={outputOn(k, e)} stale={stale} />
              ))}
            </div>
          </section>
        </div>

        <div class="wm-col">
          <section class="panel" aria-labelledby="counters-h">
            <h2 id="counters-h">Counters</h2>
            <dl class="kv">
              {Object.entries({ ...(all?.runtime || {}), ...(all?.water_counters || {}) }).map(([k, e]) => (
                <Fragment key={k}>
                  <dt>{e.parameter}</dt>
                  <dd class="num">{e.value === null ? '—' : e.value.toLocaleString('en-US', { maximumFractionDigits: 1 })}
                    {e.unit ? <span class="unit"> {e.unit}</span> : null}</dd>
                </Fragment>
              ))}
            </dl>
            <h3>PLC clock</h3>
            <p>{rtcText(all)}</p>
          </section>
          <section class="panel" aria-labelledby="mon-h">
            <h2 id="mon-h">Mode changes (R1000)</h2>
            {mon && mon.changes.length ? (
              <ul class="changes">
                {mon.changes.slice(0, 6).map((c, i) => (
                  <li key={i}>
                    <span class="mono">{time(c.timestamp)}</span> {c.from ?? '—'} → <strong>{c.to}</strong> {c.to_name ?? ''}
                    <span class="muted"> · {c.external ? 'external' : `task ${c.task_id}`}</span>
                  </li>
                ))}
              </ul>
            ) : <p class="muted">{mon ? `No change since ${dateTime(mon.monitoring_since)}.` : '…'}</p>}
          </section>
          <section class="panel" aria-labelledby="errs-h">
            <h2 id="errs-h">Recent errors</h2>
            {errs && errs.errors.length ? (
              <ul class="errors">
                {errs.errors.slice(0, 5).map((e, i) => (
                  <li key={i}><span class="mono">{dateTime(e.timestamp)}</span> <strong>{e.what}</strong>: {e.error}</li>
                ))}
              </ul>
            ) : <p class="muted">{errs ? 'None.' : '…'}</p>}
          </section>
        </div>
      </div>
    </div>
  );
}

function rtcText(all: WmAll | null): string {
  const r = all?.rtc;
  if (!r) return '—';
  const v = (k: string) => r[k]?.value;
  const y = v('rtc_year'), mo = v('rtc_month'), d = v('rtc_day'), mi = v('rtc_minutes'), s = v('rtc_seconds');
  const p = (n: number | null | undefined) => (n === null || n === undefined ? '--' : String(n).padStart(2, '0'));
  const date = y && mo && d ? `${y}-${p(mo)}-${p(d)}` : 'date not valid';
  return `${date}, minute ${p(mi)}, second ${p(s)} (the PLC has no hour register)`;
}
