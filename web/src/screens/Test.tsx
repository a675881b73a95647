// One test: its curve, the PLC's and the independent results side by side,
// its flags and alarms, the documents, its series, and the fields an
// operator may correct.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorText, get, patch, qs, AlarmList, Alarm, Machine, Series, Test } from '../api';
import { me, hasRole } from '../session';
import { useStore } from '../store';
import { alarmName, dateTime, duration, num, sn, yesNo } from '../format';
import { ForceChart } from '../components/Chart';
import { CmdButton, Notice, useLoad, useTitle } from '../components/ui';
import { MachineTabs } from './common';
import { on } from '../live';

export function TestScreen({ machine, testId }: { machine: Machine; testId: number }) {
  useTitle(`Test ${testId}`);
  const base = `/api/machines/${encodeURIComponent(machine.id)}`;
  const { data: t, error, reload, setData } = useLoad((signal) => get<Test>(`${base}/tests/${testId}`, signal), [testId]);
  useEffect(() => on<{ test_id: number }>('test_complete', (d) => { if (d.test_id === testId) reload(); }), [testId]);
  // a running test grows: fetch it again while it runs
  useEffect(() => {
    if (t?.status !== 'running') return;
    const i = setInterval(reload, 2000);
    return () => clearInterval(i);
  }, [t?.status]);

  const curve = useMemo(() => {
    const xs: number[] = [], ys: number[] = [];
    for (const p of t?.points || []) {
      if (p.deflection === null || p.force === null) continue;
      xs.push(p.deflection); ys.push(p.force);
    }
    return { xs, ys };
  }, [t]);

  if (error && !t) {
    return (
      <div class="screen">
        <div class="screen-head"><h1>Test {testId}</h1><MachineTabs machine={machine} current="test" /></div>
        <Notice kind="error">{error}</Notice>
        <p><a href={`/${encodeURIComponent(machine.id)}/history`}>Back to the history</a></p>
      </div>
    );
  }
  if (!t) return <div class="screen"><h1>Test {testId}</h1><p>Loading…</p></div>;

  const marker = t.target_deflection && t.force_at_target_calc !== null
    ? { x: t.target_deflection, y: t.force_at_target_calc } : null;

  return (
    <div class="screen">
      <div class="screen-head">
        <h1>Test {t.id}{t.sample_id ? `: ${t.sample_id}` : ''}</h1>
        <MachineTabs machine={machine} current="test" />
        <a href={`/${encodeURIComponent(machine.id)}/history`}>← All tests</a>
        <span class={`tag tag-${t.status}`}>{t.status}</span>
        {t.passed !== null && <span class={`verdict ${t.passed ? 'verdict-ok' : 'verdict-bad'}`}>
          {t.passed ? 'PASSED' : 'FAILED'}</span>}
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      <div class="test-grid">
        <div class="test-col">
        <section class="panel" aria-labelledby="curve-h">
          <div class="panel-head">
            <h2 id="curve-h">Force–deflection curve</h2>
            <span class="muted">{t.npoints} points</span>
          </div>
          <ForceChart xs={curve.xs} ys={curve.ys} version={0} target={t.target_deflection} marker={marker}
            height={300} label={`Force against deflection of test ${t.id}`} />
          <div class="doc-links">
            <a class="btn" href={`/api/report/pdf/${t.id}`} target="_blank" rel="noopener" data-external>PDF report</a>
            <a class="btn" href={`/api/report/excel${qs({ id: t.id })}`} download>Excel</a>
            <a class="btn" href={`/api/tests/${t.id}/points.csv`} download>Points (CSV)</a>
          </div>
          {t.points_sha256 && <p class="muted small mono">Points SHA-256: {t.points_sha256}</p>}
        </section>
        <EditTest test={t} base={base} onSaved={(n) => setData({ ...t, ...n })} />
        {t.series_id && <SeriesPanel base={base} seriesId={t.series_id} machineId={machine.id} current={t.id} />}
        </div>
        <div class="test-col">

        <section class="panel" aria-labelledby="results-h">
          <h2 id="results-h">Results</h2>
          <table class="table results">
            <caption class="sr-only">The PLC's results and the gateway's independent results</caption>
            <thead><tr><th scope="col">Quantity</th><th scope="col" class="num">PLC</th>
              <th scope="col" class="num">Independent</th><th scope="col">Unit</th></tr></thead>
            <tbody>
              <tr><th scope="row">Force at target</th><td class="num">{num(t.force_at_target, 4)}</td>
                <td class="num">{num(t.force_at_target_calc, 4)}</td><td>kN</td></tr>
              <tr class={t.mismatch ? 'row-flag' : ''}><th scope="row">Ring stiffness S</th>
                <td class="num">{num(t.ring_stiffness, 4)}</td>
                <td class="num">{num(t.ring_stiffness_calc, 4)}</td><td>kN/m²</td></tr>
              <tr><th scope="row">SN class</th><td class="num">{sn(t.sn_class)}</td>
                <td class="num">{sn(t.sn_class_calc)}</td><td>N/m²</td></tr>
              <tr><th scope="row">Passed</th><td class="num">{yesNo(t.plc_passed)}</td>
                <td class="num">{yesNo(t.passed)}</td><td>{t.nominal_sn ? `vs ${sn(t.nominal_sn)}` : 'PLC verdict'}</td></tr>
            </tbody>
          </table>
          <ul class="flags">
            <li class={t.mismatch ? 'flag-bad' : 'flag-ok'}>
              {t.mismatch ? 'Mismatch: the PLC\'s S and ours differ beyond the tolerance' :
                t.mismatch === false ? 'PLC and independent results agree' : 'No comparison (no result)'}</li>
            {t.reason && <li class="flag-bad">Reason: {t.reason}</li>}
          </ul>
          <dl class="kv kv-2">
            <dt>Method</dt><dd>{t.method || '—'}</dd>
            <dt>Diameter</dt><dd>{num(t.pipe_diameter, 1)} mm{t.diameter_calc && t.diameter_calc !== t.pipe_diameter ? ` (mean ${num(t.diameter_calc, 1)} mm)` : ''}</dd>
            <dt>Length</dt><dd>{num(t.pipe_length, 1)} mm</dd>
            {t.wall_thickness !== null && <><dt>Wall</dt><dd>{num(t.wall_thickness, 1)} mm</dd></>}
            <dt>Deflection</dt><dd>{num(t.deflection_percent, 1)} % → {num(t.target_deflection, 2)} mm</dd>
            <dt>Speed</dt><dd>{num(t.test_speed, 1)} mm/min</dd>
            <dt>Limits</dt><dd>{num(t.max_stroke, 1)} mm, {num(t.max_force, 1)} kN</dd>
            <dt>Started</dt><dd>{dateTime(t.test_date)}</dd>
            <dt>Ended</dt><dd>{dateTime(t.finished_at)} ({duration(t.test_date, t.finished_at)})</dd>
            <dt>Nominal</dt><dd>{t.nominal_sn ? sn(t.nominal_sn) : '—'}</dd>
          </dl>
        </section>

        <TestAlarms testId={t.id} />
        </div>
      </div>
    </div>
  );
}

function EditTest({ test, base, onSaved }: { test: Test; base: string; onSaved: (t: Partial<Test>) => void }) {
  const m = useStore(me);
  const canEdit = hasRole(m, 'operator');
  const [f, setF] = useState({ sample_id: '', operator: '', notes: '', series_id: '' });
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setF({ sample_id: test.sample_id || '', operator: test.operator || '', notes: test.notes || '',
           series_id: test.series_id ? String(test.series_id) : '' });
  }, [test.id, test.sample_id, test.operator, test.notes, test.series_id]);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string | number | null> = {};
    if (f.sample_id !== (test.sample_id || '')) body.sample_id = f.sample_id;
    if (f.operator !== (test.operator || '')) body.operator = f.operator;
    if (f.notes !== (test.notes || '')) body.notes = f.notes;
    if (f.series_id !== (test.series_id ? String(test.series_id) : ''))
      body.series_id = f.series_id.trim() === '' ? null : Number(f.series_id);
    if (!Object.keys(body).length) { setMsg({ kind: 'ok', text: 'Nothing changed.' }); return; }
    setBusy(true);
    try {
      const r = await patch<Test>(`${base}/tests/${test.id}`, body);
      onSaved(r && typeof r === 'object' ? r : body as Partial<Test>);
      setMsg({ kind: 'ok', text: 'Saved.' });
    } catch (e2) {
      setMsg({ kind: 'error', text: errorText(e2) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="edit-h">
      <h2 id="edit-h">Sample details</h2>
      {!canEdit && <p class="muted">Correcting these needs the operator role.</p>}
      <form class="form form-2" onSubmit={submit} noValidate>
        <div class="field"><label for="e-sample">Sample id</label>
          <input id="e-sample" value={f.sample_id} maxLength={50} onInput={set('sample_id')} readOnly={!canEdit} /></div>
        <div class="field"><label for="e-op">Operator</label>
          <input id="e-op" value={f.operator} maxLength={100} onInput={set('operator')} readOnly={!canEdit} /></div>
        <div class="field"><label for="e-series">Series</label>
          <input id="e-series" type="number" min="1" step="1" value={f.series_id} onInput={set('series_id')} readOnly={!canEdit} /></div>
        <div class="field field-full"><label for="e-notes">Notes</label>
          <textarea id="e-notes" rows={2} maxLength={1000} value={f.notes} onInput={set('notes')} readOnly={!canEdit} /></div>
        <div class="field-actions">
          <CmdButton type="submit" class="btn-primary" busy={busy}>Save</CmdButton>
        </div>
        <div aria-live="polite">{msg && <Notice kind={msg.kind} onClose={() => setMsg(null)}>{msg.text}</Notice>}</div>
      </form>
    </section>
  );
}

function TestAlarms({ testId }: { testId: number }) {
  // the alarms API has no test filter: the newest thousand, filtered here
  const { data, error } = useLoad((signal) => get<AlarmList>(`/api/alarms${qs({ per_page: 1000 })}`, signal), [testId]);
  const list: Alarm[] = (data?.alarms || []).filter((a) => a.test_id === testId);
  return (
    <section class="panel" aria-labelledby="talarms-h">
      <h2 id="talarms-h">Alarms of this test</h2>
      {error && <Notice kind="error">{error}</Notice>}
      {data && !list.length && <p class="muted">None.</p>}
      {list.length > 0 && (
        <ul class="alarm-list">
          {list.map((a) => (
            <li key={a.id} class={a.acknowledged ? '' : 'unacked'}>
              <strong>{alarmName(a.name)}</strong> · {dateTime(a.timestamp)} · {a.message}
              {a.acknowledged ? <span class="muted"> (acknowledged by {a.ack_by})</span> : <span class="text-bad"> (active)</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SeriesPanel({ base, seriesId, machineId, current }: { base: string; seriesId: number; machineId: string; current: number }) {
  const { data: s, error } = useLoad((signal) => get<Series>(`${base}/series/${seriesId}`, signal), [seriesId]);
  return (
    <section class="panel" aria-labelledby="series-h">
      <h2 id="series-h">Series {seriesId}</h2>
      {error && <Notice kind="error">{error}</Notice>}
      {s && (
        <>
          <p>
            Mean S (ours) <strong>{num(s.mean_ring_stiffness_calc, 4)} kN/m²</strong> · PLC's mean {num(s.mean_ring_stiffness, 4)} kN/m²
            · class of the mean <strong>{sn(s.sn_class)}</strong> · {s.ntests} test{s.ntests === 1 ? '' : 's'}
          </p>
          <table class="table">
            <caption class="sr-only">The tests of series {seriesId}</caption>
            <thead><tr><th scope="col">#</th><th scope="col">Sample</th><th scope="col">Status</th>
              <th scope="col" class="num">S ours (kN/m²)</th><th scope="col" class="num">S PLC (kN/m²)</th><th scope="col">Class</th></tr></thead>
            <tbody>
              {s.tests.map((t) => (
                <tr key={t.id} class={t.id === current ? 'row-current' : ''}>
                  <td>{t.id === current ? <span aria-current="true">{t.id}</span> :
                    <a href={`/${encodeURIComponent(machineId)}/tests/${t.id}`}>{t.id}</a>}</td>
                  <td>{t.sample_id || '—'}</td><td>{t.status}</td>
                  <td class="num">{num(t.ring_stiffness_calc, 4)}</td><td class="num">{num(t.ring_stiffness, 4)}</td>
                  <td>{sn(t.sn_class_calc)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
