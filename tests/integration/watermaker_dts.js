// watermaker_dts.js - the watermaker's DTS sequences as tasks, against the
// simulator in strict mode (an out-of-sequence R1000 write is refused with
// exception 04): full cycles through the REST API, the registers written,
// their values, order and spacing from the simulator's write log, both
// skips, stop from each mode, cancel, a refused write and a dropped
// connection mid-sequence, progress, the R1000 monitor, dts_task events,
// the audit log. Each check prints "ok - ..." or "not ok - ...".
//
// Environment: PLCGW_URL, SIM_URL, OP_TOKEN, VIEWER_TOKEN, DB (the
// gateway's database file).
'use strict';
const { sleep, check, waitFor, simClient, finish } = require('./gwtest');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const { io } = require('socket.io-client');

const URL = process.env.PLCGW_URL;
const SIM = process.env.SIM_URL;
const OP = process.env.OP_TOKEN;
const VIEWER = process.env.VIEWER_TOKEN;
const WM = '/api/machines/watermaker';



async function api(method, p, { token = OP, body } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(URL + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, data: await res.json().catch(() => null) };
}

const sim = simClient(SIM);


async function mode() { return (await api('GET', `${WM}/dts/current-step-progress`)).data.mode; }
async function waitMode(m, ms = 30000) { return waitFor(`mode ${m}`, async () => (await mode()) === m, ms); }
async function setMode(m) { assert.strictEqual((await sim('PUT', `/sim/devices/watermaker/properties/${encodeURIComponent('System Mode')}`, { value: m })).status, 200); }
async function logSeq() { const w = (await sim('GET', '/sim/writes?since=0')).data; return w.length ? w[w.length - 1].seq + 1 : 0; }
async function writesSince(seq) {
  return (await sim('GET', `/sim/writes?since=${seq}`)).data
    .filter((w) => w.device === 'watermaker')
    .map((w) => ({ p: w.parameter, v: Number(w.after), t: w.wall_ms }));
}

async function runTask(path, done = ['completed']) {
  const r = await api('POST', `${WM}/dts/${path}`);
  assert.strictEqual(r.status, 202, `${path}: ${r.status} ${JSON.stringify(r.data)}`);
  assert.ok(r.data.task_id && r.data.state === 'running');
  const id = r.data.task_id;
  const t = await waitFor(`task ${id}`, async () => {
    const s = (await api('GET', `${WM}/dts/status/${id}`)).data;
    return s.state !== 'running' && s;
  }, 40000);
  assert.ok(done.includes(t.state), `task ${id} ${t.state}: ${t.error}`);
  return t;
}

function sequenceOf(ws) { return ws.map((w) => `${w.p}=${w.v}`); }
function gap(ws, a, b) { return ws[b].t - ws[a].t; }

async function main() {
  const events = [];
  const sock = io(URL, { auth: { token: OP }, transports: ['websocket'], reconnection: false });
  sock.onAny((name, data) => events.push({ name, data }));
  await new Promise((res, rej) => { sock.on('connect', res); sock.on('connect_error', rej); });
  assert.strictEqual((await sim('PUT', '/sim/clock', { time_scale: 20 })).status, 200);
  assert.strictEqual((await sim('PUT', '/sim/devices/watermaker/options', { strict: true })).status, 200);
  await setMode(2);
  await waitMode(2);

  await check('stop and skip in standby are 409 naming the mode', async () => {
    for (const p of ['stop', 'skip']) {
      const r = await api('POST', `${WM}/dts/${p}`);
      assert.strictEqual(r.status, 409);
      assert.ok(/mode 2 \(Home\/Standby\)/.test(r.data.detail), r.data.detail);
    }
  });

  await check('a viewer cannot start, an unknown task is 404, the rig has no DTS', async () => {
    assert.ok([401, 403].includes((await api('POST', `${WM}/dts/start`, { token: VIEWER })).status));
    assert.strictEqual((await api('GET', `${WM}/dts/status/dts-999`)).status, 404);
    assert.strictEqual((await api('POST', '/api/machines/rig/dts/start')).status, 404);
    assert.strictEqual((await api('POST', `${WM}/dts/cancel`)).status, 409);
    assert.strictEqual((await api('POST', `${WM}/dts/cancel/dts-999`)).status, 404);
  });

  let startTask;
  await check('start: R1000=34, 2 s, R71=256, 2 s, R71=0, R138 to 0, R1000=5; a second start is 409', async () => {
    const since = await logSeq();
    const r = await api('POST', `${WM}/dts/start`);
    assert.strictEqual(r.status, 202);
    const again = await api('POST', `${WM}/dts/start`);
    assert.strictEqual(again.status, 409);
    assert.ok(again.data.detail.includes(r.data.task_id), again.data.detail);
    startTask = await waitFor('start task', async () => {
      const s = (await api('GET', `${WM}/dts/status/${r.data.task_id}`)).data;
      return s.state !== 'running' && s;
    });
    assert.strictEqual(startTask.state, 'completed', startTask.error);
    const ws = await writesSince(since);
    assert.deepStrictEqual(sequenceOf(ws), ['System Mode=34', 'Control Command=256', 'Control Command=0', 'System Mode=5']);
    assert.ok(gap(ws, 0, 1) >= 1900 && gap(ws, 1, 2) >= 1900, `gaps ${gap(ws, 0, 1)} ${gap(ws, 1, 2)} ms`);
    assert.deepStrictEqual(startTask.written.map((w) => `${w.register}=${w.value}`), ['R1000=34', 'R71=256', 'R71=0', 'R1000=5']);
    assert.strictEqual(await mode(), 5);
    return `gaps ${gap(ws, 0, 1)} and ${gap(ws, 1, 2)} ms`;
  });

  await check('current-step-progress follows the priming timer R128', async () => {
    const a = (await api('GET', `${WM}/dts/current-step-progress`)).data;
    await sleep(1000);
    const b = (await api('GET', `${WM}/dts/current-step-progress`)).data;
    assert.strictEqual(a.timer.register, 'R128');
    assert.ok(b.progress > a.progress && b.progress <= 100, `${a.progress} -> ${b.progress}`);
    return `${a.progress.toFixed(1)} % -> ${b.progress.toFixed(1)} %`;
  });

  await check('skip from priming: R67=32841, the PLC goes to 6 then 7', async () => {
    const since = await logSeq();
    await runTask('skip');
    assert.deepStrictEqual(sequenceOf(await writesSince(since)), ['Step Skip Command=32841']);
    await waitMode(7, 10000);
    const mon = (await api('GET', `${WM}/dts/r1000-monitor`)).data;
    const to7 = mon.changes.find((c) => c.to === 7);
    assert.ok(to7 && to7.external === true, JSON.stringify(mon.changes.slice(0, 3)));
  });

  await check('stop from production: R71=513, 1 s, R71=0, R1000=8; the flush ends in standby', async () => {
    const since = await logSeq();
    await runTask('stop');
    const ws = await writesSince(since);
    assert.deepStrictEqual(sequenceOf(ws), ['Control Command=513', 'Control Command=0', 'System Mode=8']);
    assert.ok(gap(ws, 0, 1) >= 900, `gap ${gap(ws, 0, 1)}`);
    const p = (await api('GET', `${WM}/dts/current-step-progress`)).data;
    assert.strictEqual(p.mode, 8);
    assert.strictEqual(p.timer.register, 'R133');
    await waitMode(2, 15000);
  });

  await check('start, the PLC goes on to init, skip from init: R67=32968, 1 s, R1000=7', async () => {
    await runTask('start');
    await waitMode(6, 20000);
    const since = await logSeq();
    await runTask('skip');
    const ws = await writesSince(since);
    assert.deepStrictEqual(sequenceOf(ws), ['Step Skip Command=32968', 'System Mode=7']);
    assert.ok(gap(ws, 0, 1) >= 900, `gap ${gap(ws, 0, 1)}`);
    assert.strictEqual(await mode(), 7);
  });

  await check('stop from the flush: R71=1024, 1 s, R71=0, R1000=2', async () => {
    await runTask('stop');
    assert.strictEqual(await mode(), 8);
    const since = await logSeq();
    await runTask('stop');
    assert.deepStrictEqual(sequenceOf(await writesSince(since)), ['Control Command=1024', 'Control Command=0', 'System Mode=2']);
    assert.strictEqual(await mode(), 2);
  });

  await check('stop from priming: R71=512, 1 s, R71=0, R1000=8', async () => {
    await runTask('start');
    const since = await logSeq();
    await runTask('stop');
    assert.deepStrictEqual(sequenceOf(await writesSince(since)), ['Control Command=512', 'Control Command=0', 'System Mode=8']);
    await runTask('stop');
    assert.strictEqual(await mode(), 2);
  });

  await check('cancel mid-sequence: ends before the next step and says what it wrote', async () => {
    const r = await api('POST', `${WM}/dts/start`);
    assert.strictEqual(r.status, 202);
    await sleep(700); // in the 2 s settle after R1000=34
    const c = await api('POST', `${WM}/dts/cancel`);
    assert.strictEqual(c.status, 200, JSON.stringify(c.data));
    assert.strictEqual(c.data.state, 'cancelled');
    assert.ok(/R1000=34/.test(c.data.error), c.data.error);
    await sleep(2500);
    const s = (await api('GET', `${WM}/dts/status/${r.data.task_id}`)).data;
    assert.strictEqual(s.state, 'cancelled');
    assert.deepStrictEqual(s.written.map((w) => w.register), ['R1000']);
    assert.strictEqual(await mode(), 34);
    return c.data.error;
  });

  await check('a refused write fails the task at its step, naming the register, the value and the exception', async () => {
    // the machine's own panel moves on while the task waits: R1000=5 is then out of sequence
    const r = await api('POST', `${WM}/dts/start`);
    assert.strictEqual(r.status, 202);
    await sleep(500);
    await setMode(7);
    const t = await waitFor('failed task', async () => {
      const s = (await api('GET', `${WM}/dts/status/${r.data.task_id}`)).data;
      return s.state !== 'running' && s;
    });
    assert.strictEqual(t.state, 'failed');
    assert.ok(/System Mode = 5/.test(t.error) && /04|failure/i.test(t.error), t.error);
    assert.strictEqual(await mode(), 7, 'the machine stays readable');
    const errs = (await api('GET', `${WM}/errors`)).data;
    const list = Array.isArray(errs) ? errs : errs.errors;
    assert.ok(list.some((e) => (e.error || '').includes(t.task_id) || (e.what || '').includes(t.task_id)), JSON.stringify(list).slice(0, 300));
    return t.error;
  });

  await check('a connection lost mid-sequence fails the task at that step; nothing is retried', async () => {
    await setMode(2);
    await waitMode(2);
    const since = await logSeq();
    const r = await api('POST', `${WM}/dts/start`);
    assert.strictEqual(r.status, 202);
    await sleep(500);
    await sim('POST', '/sim/faults', { frontend: 'modbus', fault: 'drop', duration_ms: 2500 });
    const t = await waitFor('failed task', async () => {
      const s = (await api('GET', `${WM}/dts/status/${r.data.task_id}`)).data;
      return s && s.state !== 'running' && s;
    });
    assert.strictEqual(t.state, 'failed');
    assert.ok(/connection/.test(t.error), t.error);
    await sleep(3500);
    assert.deepStrictEqual(sequenceOf(await writesSince(since)), ['System Mode=34'], 'nothing after the loss');
    return t.error;
  });

  await check('the R1000 monitor marks the panel\'s changes external and ours with their task', async () => {
    const mon = (await api('GET', `${WM}/dts/r1000-monitor`)).data;
    assert.ok(mon.total_changes >= 10, `${mon.total_changes}`);
    assert.ok(mon.changes.some((c) => c.to === 7 && c.from === 34 && c.external), 'the panel\'s 34 -> 7');
    assert.ok(mon.changes.some((c) => c.to === 5 && !c.external && /^dts-/.test(c.task_id)), 'our 34 -> 5');
  });

  await check('dts_task events for every step, and every write of a task in the audit log', async () => {
    const ev = events.filter((e) => e.name === 'dts_task' && e.data.task_id === startTask.task_id);
    assert.ok(ev.length >= 8, `${ev.length} events`);
    assert.strictEqual(ev[ev.length - 1].data.state, 'completed');
    const rows = execFileSync('sqlite3', [process.env.DB,
      `SELECT "values" FROM audit_log WHERE action = 'dts/start ${startTask.task_id}' AND result = 'ok'`]).toString().trim().split('\n');
    assert.strictEqual(rows.length, 4, rows.join(' | '));
    assert.ok(rows.every((r) => r.includes(startTask.task_id)));
  });

  sock.close();
  await sim('PUT', '/sim/devices/watermaker/options', { strict: false });
  await sim('PUT', '/sim/clock', { time_scale: 1 });
}

finish(main);
