// The ring-stiffness rig's live screen: values, the force–deflection curve of
// the running test, the parameters, and the commands (docs/ringstiff.md).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorText, get, post, qs, Machine, RigLive, RigParameters, Test, TestList } from '../api';
import { channel, channelLost, on, plc, subscribe } from '../live';
import { me, hasRole } from '../session';
import { useStore } from '../store';
import { age, dateTime, num, sn, SN_CLASSES, testStatusName, yesNo } from '../format';
import { ForceChart } from '../components/Chart';
import { JogPad } from '../components/Jog';
import { CmdButton, CmdMessage, Dialog, Lamp, Notice, useCommands, useId, useInterval, useTitle } from '../components/ui';
import { MachineTabs, RoleNote } from './common';

const STALE_MS = 2000;

export function RigScreen({ machine }: { machine: Machine }) {
  const id = machine.id;
  const base = `/api/machines/${encodeURIComponent(id)}`;
  useTitle(machine.name);
  const ch = useStore(channel);
  const plcState = useStore(plc)[id];
  const [live, setLive] = useState<RigLive | null>(null);
  const lastRx = useRef(0);
  const [, setNow] = useState(0);
  const cmds = useCommands();
  const [startOpen, setStartOpen] = useState(false);
  const [lastTest, setLastTest] = useState<Test | null>(null);
  const [loadError, setLoadError] = useState('');

  // the running test's curve
  const curve = useRef({ xs: [] as number[], ys: [] as number[], testId: 0 as number | null, backfilled: false,
                         target: null as number | null });
  const [version, setVersion] = useState(0);
  const clearCurve = (testId: number | null) => {
    curve.current = { xs: [], ys: [], testId, backfilled: testId !== null, target: null };
    setVersion((v) => v + 1);
  };

  useEffect(() => {
    const unsub = subscribe(id);
    const offs = [
      on<RigLive>('live_data', (d) => {
        if (d.machine !== id) return;
        lastRx.current = Date.now();
        setLive(d);
        let c = curve.current;
        if (d.test_status === 1 && d.actual_deflection !== null && d.actual_force !== null) {
          if (!c.backfilled && c.testId) {
            // the last test's curve was shown: this is another test
            clearCurve(null);
            c = curve.current;
          }
          const n = c.xs.length;
          if (!n || c.xs[n - 1] !== d.actual_deflection || c.ys[n - 1] !== d.actual_force) {
            c.xs.push(d.actual_deflection);
            c.ys.push(d.actual_force);
            setVersion((v) => v + 1);
          }
          if (!c.backfilled) {
            // opened during a test: the points so far come from its record
            c.backfilled = true;
            backfill();
          }
        }
      }),
      on<{ machine: string; test_id: number }>('test_started', (d) => {
        if (d.machine === id) { clearCurve(d.test_id); setLastTest(null); }
      }),
      on<Test & { machine: string; test_id: number }>('test_complete', (d) => {
        if (d.machine === id) setLastTest({ ...d, id: d.test_id ?? d.id });
      }),
    ];
    get<TestList>(`${base}/tests${qs({ per_page: 1 })}`).then(async (l) => {
      const t = l.tests[0];
      if (!t || t.status === 'running') return;
      setLastTest(t);
      // until a test starts, the chart shows the last one's curve
      const full = await get<Test>(`${base}/tests/${t.id}`);
      if (curve.current.xs.length || curve.current.testId) return;
      const xs: number[] = [], ys: number[] = [];
      for (const p of full.points || []) {
        if (p.deflection === null || p.force === null) continue;
        xs.push(p.deflection); ys.push(p.force);
      }
      curve.current = { xs, ys, testId: t.id, backfilled: false, target: full.target_deflection };
      setVersion((v) => v + 1);
    }).catch((e) => setLoadError(errorText(e)));
    return () => { unsub(); offs.forEach((f) => f()); };
  }, [id]);

  const backfill = async () => {
    try {
      const l = await get<TestList>(`${base}/tests${qs({ status: 'running', per_page: 1 })}`);
      const t = l.tests[0];
      if (!t) return;
      const full = await get<Test>(`${base}/tests/${t.id}`);
      const c = curve.current;
      if (c.testId && c.testId !== t.id) return;
      const xs: number[] = [], ys: number[] = [];
      for (const p of full.points || []) {
        if (p.deflection === null || p.force === null) continue;
        xs.push(p.deflection); ys.push(p.force);
      }
      // points that came live meanwhile are newer than the record's
      const lastX = xs.length ? xs[xs.length - 1] : -Infinity;
      for (let i = 0; i < c.xs.length; i++) if (c.xs[i] > lastX) { xs.push(c.xs[i]); ys.push(c.ys[i]); }
      curve.current = { xs, ys, testId: t.id, backfilled: true, target: full.target_deflection };
      setVersion((v) => v + 1);
    } catch { /* the live points are still there */ }
  };

  // age of the values: re-render twice a second while nothing comes
  useInterval(() => setNow(Date.now()), 500);
  const silence = lastRx.current ? Date.now() - lastRx.current : Infinity;
  const plcConnected = live ? live.connected && plcState?.connected !== false : plcState?.connected ?? machine.connected;
  const stale = !live || !plcConnected || silence > STALE_MS || ch.state !== 'connected';
  const valueAge = live ? live.age_ms + (silence === Infinity ? 0 : silence) : Infinity;

  // the banner is for a channel that went, not for its first connect
  const lost = channelLost(ch);
  const running = live?.test_status === 1;
  const noPlc = !plcConnected ? 'The PLC is not connected' :
    ch.state !== 'connected' ? 'The live channel is not connected' : '';
  const cmd = (label: string, path: string, body: unknown = {}) =>
    cmds.run(label, () => post(`${base}/${path}`, body), () => `${label}: confirmed by the PLC`);

  const v = (x: number | null | undefined, d = 2) => (live ? num(x, d) : '—');

  return (
    <div class="screen rig-screen">
      <div class="screen-head">
        <h1>{machine.name}</h1>
        <MachineTabs machine={machine} current="live" />
        <div class="head-msg"><CmdMessage msg={cmds.msg} onClose={() => cmds.setMsg(null)} /></div>
        <span class={`head-state ${running ? 'state-run' : ''}`}>
          Test: <strong>{live ? testStatusName(live.test_status) : '—'}</strong>
        </span>
      </div>

      {(!plcConnected || lost || (live && silence > STALE_MS)) && (
        <div class="plc-banner" role="alert">
          <strong>{!plcConnected ? 'PLC CONNECTION LOST' : lost ? 'LIVE CHANNEL LOST' : 'NO LIVE DATA'}</strong>
          <span>
            {!plcConnected ? `The rig's PLC does not answer${plcState?.error ? `: ${plcState.error}` : ''}. ` :
              lost ? `The gateway's live channel is down${ch.error ? ` (${ch.error})` : ''}; reconnecting. ` :
              'No values came from the gateway for a while. '}
            {live ? `The values shown are ${age(valueAge)} old.` : 'No values yet.'}
          </span>
        </div>
      )}
      {loadError && <Notice kind="error">{loadError}</Notice>}
      <RoleNote back={`/${id}`} />

      <div class="rig-grid">
        <section class="panel rig-values" aria-labelledby="rig-values-h">
          <h2 id="rig-values-h">Live values</h2>
          <div class={`readouts ${stale ? 'stale' : ''}`}>
            <Readout label="Force" value={v(live?.actual_force, 3)} unit="kN" big />
            <Readout label="Deflection" value={v(live?.actual_deflection)} unit="mm" big />
            <Readout label="Position" value={v(live?.actual_position)} unit="mm" />
            <Readout label="Target deflection" value={v(live?.target_deflection)} unit="mm" />
          </div>
          <p class={`age ${stale ? 'age-stale' : ''}`}>
            {live ? (stale ? `Last value ${age(valueAge)} old` : `Updated ${age(valueAge)} ago`) : 'Waiting for live data…'}
          </p>
          <div class="lamps">
            <Lamp label="PLC" on={ch.state !== 'connected' ? null : live ? plcConnected : plcState?.connected}
              onText="Connected" offText="Lost" kind="ok" offBad />
            <Lamp label="Servo ready" on={live?.servo_ready} onText="Ready" offText="Not ready" stale={stale} />
            <Lamp label="Servo error" on={live?.servo_error} onText="ERROR" offText="None" kind="bad" stale={stale} />
            <Lamp label="Servo enabled" on={live?.enable} onText="Enabled" offText="Disabled" stale={stale} />
            <Lamp label="At home" on={live?.at_home} onText="Yes" offText="No" kind="info" stale={stale} />
            <Lamp label="Upper clamp" on={live?.lock_upper} onText="Locked" offText="Open" stale={stale} />
            <Lamp label="Lower clamp" on={live?.lock_lower} onText="Locked" offText="Open" stale={stale} />
          </div>
        </section>

        <div class="rig-center">
          <section class="panel chart-panel" aria-labelledby="rig-chart-h">
            <div class="panel-head">
              <h2 id="rig-chart-h">Force–deflection{curve.current.testId ? ` · test ${curve.current.testId}` : ''}
                {!running && curve.current.testId ? <span class="muted small"> (last test)</span> : null}</h2>
              <span class="muted">{curve.current.xs.length} points</span>
            </div>
            <ForceChart xs={curve.current.xs} ys={curve.current.ys} version={version}
              target={(running ? live?.target_deflection : curve.current.target ?? live?.target_deflection) || null} height={280}
              label="Force against deflection of the running test" />
          </section>
          <div class="center-row">
            <ParametersForm base={base} blocked={noPlc || (running ? 'A test is running' : '')} />
            <LastTest test={lastTest} live={live} machineId={id} />
          </div>
        </div>

        <section class="panel rig-controls" aria-labelledby="rig-cmd-h">
          <h2 id="rig-cmd-h" class="sr-only">Commands</h2>
          <CmdButton class="btn-stop" onClick={() => cmd('Stop', 'command/stop')}
            busy={cmds.busy === 'Stop'} title="Stop the rig now">STOP</CmdButton>
          <div class="btn-row">
            <CmdButton class="btn-start" blocked={noPlc || (running ? 'A test is running' : '')}
              onClick={() => setStartOpen(true)}>Start test…</CmdButton>
            <CmdButton blocked={noPlc} busy={cmds.busy === 'Home'} onClick={() => cmd('Home', 'command/home')}>
              Home
            </CmdButton>
          </div>
          <fieldset class="group">
            <legend>Servo</legend>
            <div class="btn-row">
              <CmdButton blocked={noPlc} busy={cmds.busy === 'Servo enable'}
                onClick={() => cmd('Servo enable', 'servo/enable')}>Enable</CmdButton>
              <CmdButton blocked={noPlc} busy={cmds.busy === 'Servo disable'}
                onClick={() => cmd('Servo disable', 'servo/disable')}>Disable</CmdButton>
              <CmdButton blocked={noPlc} busy={cmds.busy === 'Servo reset'}
                onClick={() => cmd('Servo reset', 'servo/reset')}>Reset alarm</CmdButton>
            </div>
          </fieldset>
          <fieldset class="group">
            <legend>Clamps</legend>
            <div class="btn-row">
              <CmdButton blocked={noPlc} busy={cmds.busy === 'Lock upper clamp'}
                onClick={() => cmd('Lock upper clamp', 'clamp/upper/lock')}>Lock upper</CmdButton>
              <CmdButton blocked={noPlc} busy={cmds.busy === 'Lock lower clamp'}
                onClick={() => cmd('Lock lower clamp', 'clamp/lower/lock')}>Lock lower</CmdButton>
              <CmdButton blocked={noPlc || (running ? 'A test is running' : '')} busy={cmds.busy === 'Unlock clamps'}
                onClick={() => cmd('Unlock clamps', 'clamp/unlock')}>Unlock</CmdButton>
            </div>
          </fieldset>
          <fieldset class="group">
            <legend>Jog</legend>
            <JogSpeed base={base} current={live?.jog_velocity ?? null} blocked={noPlc} run={cmds.run} busy={cmds.busy} />
            <JogPad machine={id} blocked={noPlc || (running ? 'A test is running' : '')} />
          </fieldset>
        </section>
      </div>

      <StartDialog open={startOpen} onClose={() => setStartOpen(false)} base={base}
        onStarted={() => { setStartOpen(false); cmds.setMsg({ kind: 'ok', text: 'Start: sent; the PLC starts the test', at: Date.now() }); }} />
    </div>
  );
}

function Readout({ label, value, unit, big }: { label: string; value: string; unit: string; big?: boolean }) {
  return (
    <div class={`readout ${big ? 'readout-big' : ''}`}>
      <span class="readout-label">{label}</span>
      <span class="readout-value">{value}<span class="readout-unit"> {unit}</span></span>
    </div>
  );
}

function JogSpeed({ base, current, blocked, run, busy }: {
  base: string; current: number | null; blocked: string; busy: string | null;
  run: ReturnType<typeof useCommands>['run'];
}) {
  const [val, setVal] = useState('');
  const fid = useId('jogv');
  const submit = (e: Event) => {
    e.preventDefault();
    const velocity = Number(val);
    if (val.trim() === '' || !Number.isFinite(velocity)) return;
    run('Jog speed', () => post(`${base}/jog/speed`, { velocity }), () => `Jog speed set to ${velocity} mm/min`)
      .then((r) => { if (r) setVal(''); });
  };
  return (
    <form class="jog-speed" onSubmit={submit} noValidate>
      <label for={fid}>Speed<br /><span class="muted small">now {num(current, 1)}</span></label>
      <div class="input-row">
        <input id={fid} type="number" inputMode="decimal" step="any" min="0" value={val}
          readOnly={!hasRole(useStore(me), 'operator')}
          placeholder={current !== null ? String(current) : 'mm/min'}
          onInput={(e) => setVal((e.target as HTMLInputElement).value)} />
        <span class="unit">mm/min</span>
        <CmdButton blocked={blocked || (val.trim() === '' ? 'Enter a speed first' : '')}
          busy={busy === 'Jog speed'} type="submit">Set</CmdButton>
      </div>
    </form>
  );
}

const PARAMS: { key: keyof RigParameters; label: string; unit: string; aliases: string[] }[] = [
  { key: 'pipe_diameter', label: 'Diameter', unit: 'mm', aliases: ['pipe_diameter', 'diameter'] },
  { key: 'pipe_length', label: 'Length', unit: 'mm', aliases: ['pipe_length', 'length'] },
  { key: 'deflection_percent', label: 'Deflection', unit: '%', aliases: ['deflection_percent', 'deflection_pct'] },
  { key: 'max_stroke', label: 'Max stroke', unit: 'mm', aliases: ['max_stroke'] },
  { key: 'max_force', label: 'Max force', unit: 'kN', aliases: ['max_force'] },
];

/** The field a 422 problem's detail names (Pipe_Diameter, "pipe_diameter", ...). */
function fieldOf(detail: string): string | null {
  const d = detail.toLowerCase();
  let best: { key: string; at: number } | null = null;
  for (const p of PARAMS) for (const a of p.aliases) {
    const at = d.indexOf(a);
    if (at >= 0 && (!best || at < best.at)) best = { key: p.key, at };
  }
  return best?.key ?? null;
}

function ParametersForm({ base, blocked }: { base: string; blocked: string }) {
  const canWrite = hasRole(useStore(me), 'operator');
  const [plcVals, setPlcVals] = useState<RigParameters | null>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [fieldErr, setFieldErr] = useState<{ key: string; text: string } | null>(null);
  const [formMsg, setFormMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [loadErr, setLoadErr] = useState('');
  const dirty = Object.keys(draft).length > 0;

  useEffect(() => {
    if (formMsg?.kind !== 'ok') return;
    const t = setTimeout(() => setFormMsg(null), 6000);
    return () => clearTimeout(t);
  }, [formMsg]);

  const load = () => get<RigParameters>(`${base}/parameters`).then((p) => { setPlcVals(p); setLoadErr(''); })
    .catch((e) => setLoadErr(errorText(e)));
  useEffect(() => { load(); }, [base]);
  useInterval(() => { if (!busy) load(); }, 5000, [busy]);

  const value = (k: string) => draft[k] ?? (plcVals && plcVals[k as keyof RigParameters] !== null
    ? String(plcVals[k as keyof RigParameters]) : '');

  const submit = async (e: Event) => {
    e.preventDefault();
    setFieldErr(null);
    setFormMsg(null);
    const body: Record<string, number | string> = {};
    for (const p of PARAMS) {
      const s = value(p.key).trim();
      if (s === '') continue;
      const n = Number(s);
      body[p.key] = Number.isFinite(n) ? n : s; // the gateway names what is wrong
    }
    if (!Object.keys(body).length) return;
    setBusy(true);
    try {
      const r = await post<{ written: string[] }>(`${base}/parameters`, body);
      setDraft({});
      setFormMsg({ kind: 'ok', text: `Written: ${r.written.join(', ') || 'nothing changed'}` });
      load();
    } catch (err) {
      const text = errorText(err);
      const key = err instanceof ApiError && err.status === 422 ? fieldOf(text) : null;
      if (key) {
        setFieldErr({ key, text });
        (document.getElementById(`param-${key}`) as HTMLInputElement | null)?.focus();
      } else setFormMsg({ kind: 'error', text });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel params" aria-labelledby="params-h">
      <div class="panel-head">
        <h2 id="params-h">Test parameters</h2>
        {plcVals && <span class="muted">speed {num(plcVals.test_speed, 1)} mm/min</span>}
      </div>
      {loadErr && <Notice kind="error">{loadErr}</Notice>}
      <form onSubmit={submit} noValidate>
        <div class="param-grid">
          {PARAMS.map((p) => {
            const err = fieldErr?.key === p.key;
            return (
              <div class={`field ${err ? 'field-error' : ''}`} key={p.key}>
                <label for={`param-${p.key}`}>{p.label}<span class="sr-only"> ({p.unit})</span></label>
                <div class="input-row">
                <input id={`param-${p.key}`} name={p.key} type="number" inputMode="decimal" step="any"
                  value={value(p.key)} readOnly={!canWrite} aria-invalid={err ? 'true' : undefined}
                  aria-describedby={err ? `param-${p.key}-err` : undefined}
                  class={draft[p.key] !== undefined ? 'changed' : ''}
                  onInput={(e) => {
                    const val = (e.target as HTMLInputElement).value;
                    setDraft((d) => ({ ...d, [p.key]: val }));
                    if (err) setFieldErr(null);
                  }} />
                <span class="unit" aria-hidden="true">{p.unit}</span>
                </div>
                {err && <span id={`param-${p.key}-err`} class="field-msg" role="alert">{fieldErr!.text}</span>}
              </div>
            );
          })}
          <div class="field field-actions">
            <CmdButton class="btn-primary" type="submit" blocked={blocked} busy={busy}>
              Write to PLC</CmdButton>
            {dirty && <button type="button" class="btn btn-small" title="Undo the changes: show the PLC's values"
              onClick={() => { setDraft({}); setFieldErr(null); }}>Undo</button>}
          </div>
        </div>
        <div aria-live="polite">{formMsg && <Notice kind={formMsg.kind} onClose={() => setFormMsg(null)}>{formMsg.text}</Notice>}</div>
      </form>
    </section>
  );
}

function LastTest({ test, live, machineId }: { test: Test | null; live: RigLive | null; machineId: string }) {
  return (
    <section class="panel last-test" aria-labelledby="last-h">
      <h2 id="last-h">{test ? <a href={`/${encodeURIComponent(machineId)}/tests/${test.id}`}>Last test #{test.id}</a> : 'Last test'}</h2>
      {test ? (
        <dl class="kv">
          <dt>Sample</dt><dd>{test.sample_id || '—'}</dd>
          <dt>Status</dt><dd>{test.status}{test.reason ? ` (${test.reason})` : ''}</dd>
          <dt>S (ours)</dt><dd>{num(test.ring_stiffness_calc, 3)} kN/m²</dd>
          <dt>S (PLC)</dt><dd>{num(test.ring_stiffness, 3)} kN/m²</dd>
          <dt>Class</dt><dd>{sn(test.sn_class_calc)}</dd>
          <dt>Verdict</dt><dd class={test.passed ? 'text-ok' : test.passed === false ? 'text-bad' : ''}>
            {yesNo(test.passed, 'Passed', 'Failed')}{test.mismatch ? ' · mismatch' : ''}</dd>
          <dt>Ended</dt><dd>{dateTime(test.finished_at)}</dd>
        </dl>
      ) : live?.test_status === 1 ? <p>A test is running.</p> : <p class="muted">No test yet.</p>}
    </section>
  );
}

function StartDialog({ open, onClose, base, onStarted }: {
  open: boolean; onClose: () => void; base: string; onStarted: () => void;
}) {
  const m = useStore(me);
  const [f, setF] = useState({ sample_id: '', operator: '', nominal_sn: '', notes: '', series_id: '' });
  const [err, setErr] = useState<{ status: number; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (open) { setErr(null); setF((x) => ({ ...x, operator: x.operator || m?.user || '' })); }
  }, [open]);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });

  const newSeries = async () => {
    try {
      const r = await post<{ series_id: number }>(`${base}/series`, {});
      setF({ ...f, series_id: String(r.series_id) });
    } catch (e) {
      setErr({ status: 0, text: errorText(e) });
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const body: Record<string, string | number> = {};
    if (f.sample_id.trim()) body.sample_id = f.sample_id.trim();
    if (f.operator.trim()) body.operator = f.operator.trim();
    if (f.notes.trim()) body.notes = f.notes.trim();
    if (f.nominal_sn) body.nominal_sn = Number(f.nominal_sn);
    if (f.series_id.trim()) body.series_id = Number(f.series_id);
    setBusy(true);
    try {
      await post(`${base}/command/start`, body);
      setF({ sample_id: '', operator: f.operator, nominal_sn: f.nominal_sn, notes: '', series_id: f.series_id });
      onStarted();
    } catch (e2) {
      setErr({ status: e2 instanceof ApiError ? e2.status : 0, text: errorText(e2) });
    } finally {
      setBusy(false);
    }
  };

  // a 409 names every missing item, separated by semicolons
  const missing = err?.status === 409 ? err.text.replace(/^the test cannot start:\s*/i, '').split(/;\s*/) : null;

  return (
    <Dialog open={open} onClose={onClose} title="Start a test">
      <form class="form" onSubmit={submit} noValidate>
        <div class="field">
          <label for="st-sample">Sample id</label>
          <input id="st-sample" value={f.sample_id} maxLength={50} onInput={set('sample_id')}
            autoComplete="off" placeholder="e.g. P-2026-0042" />
        </div>
        <div class="field">
          <label for="st-operator">Operator</label>
          <input id="st-operator" value={f.operator} maxLength={100} onInput={set('operator')} autoComplete="off" />
        </div>
        <div class="field">
          <label for="st-sn">Nominal class</label>
          <select id="st-sn" value={f.nominal_sn} onChange={set('nominal_sn')}>
            <option value="">None (the PLC's verdict)</option>
            {SN_CLASSES.map((c) => <option value={String(c)} key={c}>SN {c.toLocaleString('en-US')} ({c} N/m²)</option>)}
          </select>
        </div>
        <div class="field">
          <label for="st-series">Series <span class="muted">(optional: pieces of one pipe)</span></label>
          <div class="input-row">
            <input id="st-series" type="number" min="1" step="1" value={f.series_id} onInput={set('series_id')} />
            <button type="button" class="btn btn-small" onClick={newSeries}>New series</button>
          </div>
        </div>
        <div class="field">
          <label for="st-notes">Notes</label>
          <textarea id="st-notes" rows={2} maxLength={1000} value={f.notes} onInput={set('notes')} />
        </div>
        {err && (
          <div class="notice notice-error" role="alert">
            {missing ? (
              <div>
                <strong>The test cannot start:</strong>
                <ul class="missing">{missing.map((x) => <li key={x}>{x}</li>)}</ul>
              </div>
            ) : err.text}
          </div>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-start" disabled={busy} aria-busy={busy ? 'true' : undefined}>
            Start test
          </button>
        </div>
      </form>
    </Dialog>
  );
}
