// rig_workflow.js - the ring-stiffness rig's test workflow end to end, as
// a lab uses it: over real HTTP and Socket.IO against `plcgw serve` with
// the simulated rig (rig_workflow.sh starts it). Each check prints
// "ok - ..." or "not ok - ..."; the exit status is the number of failures.
//
// Environment: PLCGW_URL, SIM_URL, OP_TOKEN (an operator), TMP (a folder
// for the downloaded documents).
'use strict';
const { sleep, check, waitFor, simClient, finish } = require('./gwtest');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { io } = require('socket.io-client');

const URL = process.env.PLCGW_URL;
const SIM = process.env.SIM_URL;
const OP = process.env.OP_TOKEN;
const TMP = process.env.TMP;
const AUTH = { Authorization: `Bearer ${OP}` };



async function api(method, p, body) {
  const opt = { method, headers: { ...AUTH } };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const res = await fetch(URL + p, opt);
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer());
  return { status: res.status, data, headers: res.headers };
}

const sim = simClient(SIM);


// Events of the live channel, kept in order.
const events = [];
function nextEvent(name, pred = () => true, ms = 30000) {
  const seen = events.length;
  const p = waitFor(`event ${name}`, async () => events.slice(seen).find((e) => e.name === name && pred(e.data)), ms);
  p.catch(() => {}); // a check that fails first must not leave it unhandled
  return p;
}

// ISO 9969 from the stored curve, by hand: the force at y = pct/100 d,
// interpolated between the points around it.
function handStiffness(t, points) {
  const y = (t.deflection_percent / 100) * t.pipe_diameter;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (Math.abs(p.deflection - y) <= 1e-6 * y) return { y, F: p.force, S: s(p.force) };
    const q = points[i + 1];
    if (q && p.deflection < y && q.deflection > y) {
      const F = p.force + (q.force - p.force) * (y - p.deflection) / (q.deflection - p.deflection);
      return { y, F, S: s(F) };
    }
  }
  throw new Error(`the curve never reaches y = ${y}`);
  function s(F) { return (0.0186 + 0.025 * y / t.pipe_diameter) * F * 1e6 / (t.pipe_length * y); }
}

async function enableAndClamp() {
  for (const c of ['servo/enable', 'clamp/upper/lock', 'clamp/lower/lock']) {
    const r = await api('POST', `/api/${c}`);
    assert.strictEqual(r.status, 200, `${c}: ${JSON.stringify(r.data)}`);
  }
}

async function idle() {
  await waitFor('Test_Status idle or done', async () => {
    const r = await api('GET', '/api/status');
    return r.status === 200 && r.data.test_status !== 1;
  });
  await sleep(300); // a stop's pulse is over
}

async function main() {
  const sock = io(URL, { auth: { token: OP }, transports: ['websocket'], reconnection: false });
  sock.onAny((name, data) => events.push({ name, data }));
  await new Promise((res, rej) => { sock.on('connect', res); sock.on('connect_error', rej); });
  // the rig's tests take a minute of simulated time: 20x faster
  assert.strictEqual((await sim('PUT', '/sim/clock', { time_scale: 20 })).status, 200);

  await check('start with the servo off and the clamps open is 409 naming each', async () => {
    await api('POST', '/api/servo/disable');
    await api('POST', '/api/clamp/unlock');
    await sleep(300);
    const r = await api('POST', '/api/command/start');
    assert.strictEqual(r.status, 409, JSON.stringify(r.data));
    for (const w of ['Enable', 'Lock_Upper', 'Lock_Lower'])
      assert.ok(r.data.detail.includes(w), `${w} not named: ${r.data.detail}`);
    return r.data.detail;
  });

  await check('a bad start body is 422 and starts nothing', async () => {
    for (const body of [{ sample_id: 5 }, { nominal_sn: -1 }, { colour: 'red' }, { sample_id: 'x'.repeat(51) }]) {
      const r = await api('POST', '/api/command/start', body);
      assert.strictEqual(r.status, 422, `${JSON.stringify(body)}: ${r.status}`);
    }
  });

  let series;
  await check('POST /api/series gives a new series id', async () => {
    const a = await api('POST', '/api/series');
    const b = await api('POST', '/api/series');
    assert.strictEqual(a.status, 201);
    assert.ok(b.data.series_id > a.data.series_id);
    series = a.data.series_id;
  });

  let full;
  await check('a full test: started with a sample id, completed by the PLC, recorded', async () => {
    await enableAndClamp();
    await sleep(300);
    const done = nextEvent('test_complete', (d) => d.status === 'complete');
    const started = nextEvent('test_started');
    const r = await api('POST', '/api/command/start', {
      sample_id: 'P-2026-0042', operator: 'j.smith', notes: 'first piece, 0 deg', nominal_sn: 5000, series_id: series,
    });
    assert.strictEqual(r.status, 200, JSON.stringify(r.data));
    const st = await started;
    assert.strictEqual(st.data.sample_id, 'P-2026-0042');
    const ev = await done;
    assert.strictEqual(ev.data.test_id, st.data.test_id);
    for (const k of ['ring_stiffness', 'sn_class', 'passed']) assert.ok(k in ev.data, `test_complete lacks ${k}`);
    full = (await api('GET', `/api/tests/${ev.data.test_id}`)).data;
    assert.strictEqual(full.status, 'complete');
    assert.strictEqual(full.sample_id, 'P-2026-0042');
    assert.strictEqual(full.operator, 'j.smith');
    assert.strictEqual(full.series_id, series);
    assert.strictEqual(full.pipe_diameter, 315);
    assert.ok(full.npoints > 50, `only ${full.npoints} points`);
    assert.strictEqual(full.points.length, full.npoints);
    return `test ${full.id}, ${full.npoints} points, PLC S ${full.ring_stiffness}, ours ${full.ring_stiffness_calc}`;
  });

  await check('the independent S is within 0.5 % of a hand calculation from the stored curve', async () => {
    const h = handStiffness(full, full.points);
    const diff = Math.abs(h.S - full.ring_stiffness_calc) / h.S;
    assert.ok(diff < 0.005, `hand ${h.S}, gateway ${full.ring_stiffness_calc}`);
    assert.ok(Math.abs(full.ring_stiffness - full.ring_stiffness_calc) / full.ring_stiffness_calc < 0.01,
      `PLC ${full.ring_stiffness} vs ours ${full.ring_stiffness_calc}`);
    return `hand ${h.S.toFixed(5)} kN/m2 at y ${h.y} mm, F ${h.F.toFixed(5)} kN`;
  });

  await check('the SN class, the verdict, no mismatch', async () => {
    assert.strictEqual(full.sn_class_calc, 5000); // the simulated pipe is 6 kN/m2
    assert.strictEqual(full.sn_class, 5000);
    assert.strictEqual(full.passed, true);
    assert.strictEqual(full.mismatch, false);
    assert.strictEqual(full.method, 'ISO 9969');
  });

  await check('points.csv parses, and its SHA-256 is the one the test keeps', async () => {
    const r = await api('GET', `/api/tests/${full.id}/points.csv`);
    assert.strictEqual(r.status, 200);
    assert.ok(r.headers.get('content-type').startsWith('text/csv'));
    const lines = r.data.toString('utf8').trim().split('\r\n');
    assert.strictEqual(lines[0], 't_s,force_kN,deflection_mm,position_mm');
    assert.strictEqual(lines.length - 1, full.npoints);
    const row = lines[1].split(',').map(Number);
    assert.ok(row.length === 4 && row.every((v) => Number.isFinite(v)), lines[1]);
    const sha = crypto.createHash('sha256').update(r.data).digest('hex');
    assert.strictEqual(sha, full.points_sha256);
  });

  await check('the PDF report is valid and tells the sample, the results and the chart', async () => {
    const r = await api('GET', `/api/report/pdf/${full.id}`);
    assert.strictEqual(r.status, 200, String(r.data).slice(0, 200));
    assert.strictEqual(r.headers.get('content-type'), 'application/pdf');
    const f = path.join(TMP, 'report.pdf');
    fs.writeFileSync(f, r.data);
    const info = execFileSync('pdfinfo', [f]).toString();
    assert.ok(/Pages:\s+1/.test(info), info);
    assert.ok(/A4/.test(info), info);
    const text = execFileSync('pdftotext', ['-layout', f, '-']).toString();
    for (const w of ['P-2026-0042', 'j.smith', 'SN 5000', 'ISO 9969', full.points_sha256,
      full.ring_stiffness_calc.toFixed(2)])
      assert.ok(text.includes(w), `"${w}" not in the PDF's text`);
    // the chart: vector paths (more than the tables' rules) in the page
    const raw = execFileSync('pdftotext', ['-f', '1', '-l', '1', f, '-']).toString();
    assert.ok(raw.includes('Deflection') && raw.includes('Force'), 'no chart axes');
    return `${r.data.length} bytes`;
  });

  await check('the XLSX of one test opens in openpyxl with the sample, the points and a chart', async () => {
    const r = await api('GET', `/api/report/excel?id=${full.id}`);
    assert.strictEqual(r.status, 200, String(r.data).slice(0, 200));
    const f = path.join(TMP, 'one.xlsx');
    fs.writeFileSync(f, r.data);
    const out = execFileSync('/usr/bin/python3', ['-c', `
import openpyxl, sys
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb['Tests']
rows = list(ws.iter_rows(values_only=True))
assert any('P-2026-0042' in [str(c) for c in row] for row in rows[1:]), 'no sample id'
pts = wb['Points']
n = pts.max_row - 1
charts = sum(len(w._charts) for w in wb.worksheets)
print(n, charts)
`, f]).toString().trim().split(' ').map(Number);
    assert.strictEqual(out[0], full.npoints, `points rows ${out[0]}`);
    assert.ok(out[1] >= 1, 'no chart');
    return `${out[0]} point rows, ${out[1]} chart`;
  });

  let panel;
  await check('a test started on the machine\'s own panel is recorded without an API call', async () => {
    await idle();
    const done = nextEvent('test_complete');
    const w = await sim('PUT', '/sim/devices/rig/properties/Start_Test', { value: true });
    assert.strictEqual(w.status, 200, JSON.stringify(w.data));
    const ev = await done;
    panel = (await api('GET', `/api/tests/${ev.data.test_id}?points=false`)).data;
    assert.strictEqual(panel.status, 'complete');
    assert.strictEqual(panel.sample_id, null);
    assert.ok(!('points' in panel));
    assert.ok(panel.npoints > 50);
  });

  await check('PATCH /api/tests/{id} sets the sample id later (and refuses bad input)', async () => {
    const bad = await api('PATCH', `/api/tests/${panel.id}`, { sample_id: 7 });
    assert.strictEqual(bad.status, 422);
    const r = await api('PATCH', `/api/tests/${panel.id}`, { sample_id: 'P-2026-0043', notes: 'panel start' });
    assert.strictEqual(r.status, 200, JSON.stringify(r.data));
    assert.strictEqual(r.data.sample_id, 'P-2026-0043');
    const g = (await api('GET', `/api/tests/${panel.id}?points=false`)).data;
    assert.strictEqual(g.notes, 'panel start');
    assert.strictEqual((await api('PATCH', '/api/tests/999999', { notes: 'x' })).status, 404);
  });

  await check('a second start while a test runs is 409', async () => {
    await idle();
    const started = nextEvent('test_started');
    assert.strictEqual((await api('POST', '/api/command/start', { sample_id: 'P-STOP' })).status, 200);
    await started;
    const r = await api('POST', '/api/command/start');
    assert.strictEqual(r.status, 409);
    assert.ok(/running/.test(r.data.detail), r.data.detail);
  });

  await check('Stop aborts the test: kept with its points and the reason', async () => {
    const done = nextEvent('test_complete', (d) => d.status === 'aborted');
    await sleep(200);
    assert.strictEqual((await api('POST', '/api/command/stop')).status, 200);
    const ev = await done;
    const t = (await api('GET', `/api/tests/${ev.data.test_id}?points=false`)).data;
    assert.strictEqual(t.status, 'aborted');
    assert.strictEqual(t.sample_id, 'P-STOP');
    assert.ok(/Stop/.test(t.reason), t.reason);
    assert.ok(t.npoints > 0);
    assert.strictEqual(t.ring_stiffness_calc, null);
    return t.reason;
  });

  await check('Max_Force aborts the test, with an alarm row and event', async () => {
    await idle();
    await enableAndClamp();
    assert.strictEqual((await api('POST', '/api/parameters', { max_force: 0.3 })).status, 200);
    const done = nextEvent('test_complete', (d) => d.status === 'aborted');
    const alarm = nextEvent('alarm', (d) => d.code === 3);
    assert.strictEqual((await api('POST', '/api/command/start', { sample_id: 'P-FORCE' })).status, 200);
    const ev = await done;
    const al = await alarm;
    assert.strictEqual(al.data.test_id, ev.data.test_id);
    const t = (await api('GET', `/api/tests/${ev.data.test_id}?points=false`)).data;
    assert.ok(/Max_Force/.test(t.reason), t.reason);
    assert.strictEqual((await api('POST', '/api/parameters', { max_force: 50 })).status, 200);
    return t.reason;
  });

  let alarmId;
  await check('an injected servo error: alarm event and row, acknowledged once', async () => {
    const ev = nextEvent('alarm', (d) => d.code === 1);
    assert.strictEqual((await sim('PUT', '/sim/devices/rig/ios/servo_fault', { value: true })).status, 200);
    const al = (await ev).data;
    assert.strictEqual(al.name, 'servo_error');
    alarmId = al.id;
    const act = (await api('GET', '/api/alarms?active=true')).data;
    assert.ok(act.alarms.some((a) => a.id === alarmId && !a.acknowledged));
    // another machine's path acknowledges nothing
    assert.strictEqual((await api('POST', `/api/machines/watermaker/alarms/${alarmId}/ack`)).status, 404);
    const still = (await api('GET', '/api/alarms?active=true')).data;
    assert.ok(still.alarms.some((a) => a.id === alarmId), 'still active');
    const ack = await api('POST', `/api/alarms/${alarmId}/ack`);
    assert.strictEqual(ack.status, 200, JSON.stringify(ack.data));
    assert.strictEqual(ack.data.acknowledged, true);
    assert.ok(ack.data.ack_by && ack.data.ack_timestamp);
    assert.strictEqual((await api('POST', `/api/alarms/${alarmId}/ack`)).status, 409);
    assert.strictEqual((await api('POST', '/api/alarms/999999/ack')).status, 404);
    const after = (await api('GET', '/api/alarms?active=true')).data;
    assert.ok(!after.alarms.some((a) => a.id === alarmId));
    await sim('PUT', '/sim/devices/rig/ios/servo_fault', { value: false });
    assert.strictEqual((await api('POST', '/api/servo/reset')).status, 200);
  });

  await check('GET /api/alarms paginates with the total', async () => {
    const all = (await api('GET', '/api/alarms?per_page=1&page=1')).data;
    assert.ok(all.total >= 2, `total ${all.total}`);
    assert.strictEqual(all.alarms.length, 1);
    const p2 = (await api('GET', '/api/alarms?per_page=1&page=2')).data;
    assert.notStrictEqual(p2.alarms[0].id, all.alarms[0].id);
    assert.strictEqual((await api('GET', '/api/alarms?active=maybe')).status, 422);
  });

  await check('GET /api/tests: pagination and every filter', async () => {
    const all = (await api('GET', '/api/tests?per_page=100')).data;
    assert.ok(all.total >= 4, `total ${all.total}`);
    const p1 = (await api('GET', '/api/tests?per_page=2&page=1')).data;
    const p2 = (await api('GET', '/api/tests?per_page=2&page=2')).data;
    assert.strictEqual(p1.tests.length, 2);
    assert.strictEqual(p1.total, all.total);
    assert.strictEqual(p1.pages, Math.ceil(all.total / 2));
    assert.ok(!p2.tests.some((t) => p1.tests.some((u) => u.id === t.id)));
    const q = async (s) => (await api('GET', `/api/tests?${s}`)).data;
    assert.deepStrictEqual((await q('sample_id=P-2026-0042')).tests.map((t) => t.id), [full.id]);
    assert.ok((await q('operator=j.smith')).tests.every((t) => t.operator === 'j.smith'));
    assert.ok((await q('passed=true')).tests.every((t) => t.passed === true));
    assert.ok((await q('passed=true')).tests.some((t) => t.id === full.id));
    const ab = await q('status=aborted');
    assert.ok(ab.total >= 2 && ab.tests.every((t) => t.status === 'aborted'));
    assert.strictEqual((await q(`series_id=${series}`)).total, 1);
    const today = new Date().toISOString().slice(0, 10);
    assert.strictEqual((await q(`from=${today}&to=${today}`)).total, all.total);
    assert.strictEqual((await q('from=2099-01-01')).total, 0);
    assert.strictEqual((await q('to=2000-01-01')).total, 0);
    for (const bad of ['passed=maybe', 'from=yesterday', 'status=done', 'page=0', 'per_page=100000'])
      assert.strictEqual((await api('GET', `/api/tests?${bad}`)).status, 422, bad);
    const m = (await api('GET', '/api/machines/rig/tests?per_page=1')).data;
    assert.strictEqual(m.total, all.total);
    assert.strictEqual((await api('GET', '/api/machines/watermaker/tests')).status, 404);
  });

  await check('GET /api/series/{id}: the mean S and class over the series', async () => {
    const s = (await api('GET', `/api/series/${series}`)).data;
    assert.strictEqual(s.ntests, 1);
    assert.strictEqual(s.mean_ring_stiffness_calc, full.ring_stiffness_calc);
    assert.strictEqual(s.sn_class, 5000);
    assert.strictEqual((await api('GET', '/api/series/999999')).status, 404);
  });

  await check('the XLSX of every test opens in openpyxl', async () => {
    const all = (await api('GET', '/api/tests?per_page=1')).data;
    const r = await api('GET', '/api/report/excel?points=false');
    assert.strictEqual(r.status, 200);
    const f = path.join(TMP, 'all.xlsx');
    fs.writeFileSync(f, r.data);
    const n = Number(execFileSync('/usr/bin/python3', ['-c',
      'import openpyxl, sys; print(openpyxl.load_workbook(sys.argv[1])["Tests"].max_row - 1)', f]).toString());
    assert.strictEqual(n, all.total);
  });

  await check('the OpenAPI document lists the history routes with their schemas', async () => {
    const d = (await api('GET', '/openapi.json')).data;
    for (const p of ['/api/tests', '/api/tests/{test_id}', '/api/tests/{test_id}/points.csv',
      '/api/report/pdf/{test_id}', '/api/report/excel', '/api/alarms', '/api/alarms/{alarm_id}/ack',
      '/api/series/{series_id}', '/api/machines/{id}/tests'])
      assert.ok(d.paths[p], `${p} missing`);
    assert.ok(d.paths['/api/tests/{test_id}'].patch);
    assert.ok(d.components.schemas.Test && d.components.schemas.AlarmList);
    assert.ok(d.paths['/api/tests'].get.parameters.some((q) => q.name === 'per_page'));
  });

  sock.close();
  await sim('PUT', '/sim/clock', { time_scale: 1 });
}

finish(main);
