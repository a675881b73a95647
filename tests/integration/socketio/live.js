// live.js - the live channel of `plcgw serve` (demo config, simulators
// in-process) driven by the official socket.io-client v4: transports,
// live_data at 10 Hz, events from PLC changes, hold-to-run jog checked in
// the simulator's write log, authentication, and a malformed frame.
//
// Environment (set by live.sh): PLCGW_URL, SIM_URL (the simulator's control
// API), OP_TOKEN, OP2_TOKEN (operators), VIEWER_TOKEN.
'use strict';
const assert = require('node:assert');
const { io } = require('socket.io-client');

const URL = process.env.PLCGW_URL;
const SIM = process.env.SIM_URL;
// the rig's front-end in the simulator: s7, or s7plus (DEMO_RIG_DRIVER)
const RIG_FRONTEND = process.env.RIG_FRONTEND || 's7';
const OP = process.env.OP_TOKEN;
const OP2 = process.env.OP2_TOKEN;
const VIEWER = process.env.VIEWER_TOKEN;
const TEST_MS = 20000;
const sockets = new Set();

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A connected client; rejects on connect_error or after 5 s.
function connect(opts = {}) {
  return new Promise((resolve, reject) => {
    const s = io(URL, { reconnection: false, timeout: 5000, ...opts });
    sockets.add(s);
    const t = setTimeout(() => reject(new Error('no connect within 5 s')), 5000);
    s.once('connect', () => { clearTimeout(t); resolve(s); });
    s.once('connect_error', (e) => { clearTimeout(t); reject(e); });
  });
}

function once(s, event, ms = 3000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    s.once(event, (...args) => { clearTimeout(t); resolve(args); });
  });
}

// The first event matching pred within ms.
function waitEvent(s, event, pred, ms = 5000) {
  return new Promise((resolve, reject) => {
    const on = (p) => {
      if (!pred(p)) return;
      clearTimeout(t);
      s.off(event, on);
      resolve(p);
    };
    const t = setTimeout(() => { s.off(event, on); reject(new Error(`no matching ${event} within ${ms} ms`)); }, ms);
    s.on(event, on);
  });
}

function call(s, event, payload, ms = 5000) {
  return s.timeout(ms).emitWithAck(event, payload);
}

async function simWrites(since = 0) {
  const r = await fetch(`${SIM}/sim/writes?since=${since}`);
  return r.json();
}

async function lastSeq() {
  const w = await simWrites(0);
  return w.length ? w[w.length - 1].seq + 1 : 0;
}

async function simPost(path, body, method = 'POST') {
  const r = await fetch(`${SIM}${path}`, { method, body: JSON.stringify(body) });
  assert.ok(r.ok, `${method} ${path}: ${r.status}`);
}

// The writes of one parameter since seq, polled until pred holds (2 s).
async function writesOf(parameter, since, pred = () => true) {
  let w = [];
  for (let i = 0; i < 40; i++) {
    w = (await simWrites(since)).filter((x) => x.parameter === parameter);
    if (pred(w)) return w;
    await sleep(50);
  }
  return w;
}

const tests = [];
function test(name, fn) { tests.push({ name, fn }); }

test('default transports: long-polling first, then the upgrade to WebSocket', async () => {
  const s = io(URL, { reconnection: false, autoConnect: false, auth: { token: VIEWER } });
  sockets.add(s);
  let first = '';
  s.io.on('open', () => { first = s.io.engine.transport.name; });
  const connected = once(s, 'connect', 5000);
  s.connect();
  await connected;
  assert.strictEqual(first, 'polling');
  if (s.io.engine.transport.name !== 'websocket') await once(s.io.engine, 'upgrade');
  assert.strictEqual(s.io.engine.transport.name, 'websocket');
  // nothing lost across the switch: acks keep arriving
  const a = await call(s, 'subscribe', {});
  assert.deepStrictEqual(a, { ok: true, machine: 'rig' });
  s.disconnect();
});

test('a stock client with default options and no credentials (the demo\'s loopback viewer)', async () => {
  const s = io(URL);
  sockets.add(s);
  await once(s, 'connect', 5000);
  s.emit('subscribe', {});
  const [d] = await once(s, 'live_data', 2000);
  assert.strictEqual(d.machine, 'rig');
  s.disconnect();
});

test('WebSocket only', async () => {
  const s = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  assert.strictEqual(s.io.engine.transport.name, 'websocket');
  s.disconnect();
});

test('HTTP long-polling only receives live_data', async () => {
  const s = await connect({ transports: ['polling'], auth: { token: VIEWER } });
  await call(s, 'subscribe', {});
  const [d] = await once(s, 'live_data', 2000);
  assert.strictEqual(d.machine, 'rig');
  s.disconnect();
});

test('live_data: 10 ± 0.5 per second over 5 s, the seed\'s fields, the server\'s ts', async () => {
  const s = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  const got = [];
  s.on('live_data', (d) => got.push({ d, at: Date.now() }));
  await call(s, 'subscribe', {});
  await sleep(500); // steady
  const from = got.length;
  await sleep(5000);
  const n = got.length - from;
  console.log(`#   live_data: ${n} in 5 s`);
  assert.ok(n >= 48 && n <= 52, `${n} live_data events in 5 s, expected 50 ± 2.5`);
  const health = await (await fetch(`${URL}/api/health`)).json();
  assert.ok(health.live.clients >= 1 && health.live.live_data_sent >= n, JSON.stringify(health.live));
  const d = got[got.length - 1].d;
  for (const k of ['actual_force', 'actual_deflection', 'actual_position', 'test_status',
    'servo_ready', 'connected', 'machine', 'ts']) assert.ok(k in d, `live_data lacks ${k}`);
  assert.strictEqual(typeof d.ts, 'number');
  const lat = got.slice(from).map((g) => g.at - g.d.ts).sort((a, b) => a - b);
  console.log(`#   latency ms: p50 ${lat[lat.length >> 1]}, max ${lat[lat.length - 1]}`);
  await call(s, 'unsubscribe', {});
  await sleep(300);
  const after = got.length;
  await sleep(500);
  assert.strictEqual(got.length, after, 'live_data after unsubscribe');
  s.disconnect();
});

test('subscribe {machine} serves another machine; an unknown one is refused', async () => {
  const s = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  assert.deepStrictEqual(await call(s, 'subscribe', { machine: 'watermaker' }),
    { ok: true, machine: 'watermaker' });
  const d = await waitEvent(s, 'live_data', (x) => x.machine === 'watermaker', 2000);
  assert.ok(d.mode && 'value' in d.mode && d.sensors && d.timers && d.outputs,
    'watermaker live_data has its mode, sensors, timers and outputs');
  assert.strictEqual((await call(s, 'subscribe', { machine: 'nope' })).ok, false);
  s.disconnect();
});

test('a PLC change arrives: connection_status on a dropped PLC, then alarm', async () => {
  const s = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  const down = waitEvent(s, 'connection_status', (p) => p.machine === 'rig' && !p.connected, 5000);
  await simPost('/sim/faults', { frontend: RIG_FRONTEND, fault: 'drop', duration_ms: 800 });
  const p = await down;
  assert.ok(typeof p.error === 'string' && p.error.length, 'says why');
  await waitEvent(s, 'connection_status', (x) => x.machine === 'rig' && x.connected, 8000);
  const alarm = waitEvent(s, 'alarm', (a) => a.code === 1 && a.name === 'servo_error', 5000);
  await simPost('/sim/devices/rig/ios/servo_fault', { value: true }, 'PUT');
  const a = await alarm;
  assert.strictEqual(a.machine, 'rig');
  assert.ok(a.timestamp && a.message);
  await simPost('/sim/devices/rig/ios/servo_fault', { value: false }, 'PUT');
  s.disconnect();
});

test('unauthenticated and viewer clients', async () => {
  await assert.rejects(connect({ transports: ['websocket'], auth: { token: 'plcgw_nope' } }),
    /not a plcgw API token|unknown or revoked/);
  const v = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  const r = await call(v, 'jog_forward', { state: true });
  assert.deepStrictEqual(r, { ok: false, error: 'jog needs the operator role' });
  v.disconnect();
});

test('a browser\'s session cookie signs the client in (operator: may jog)', async () => {
  const r = await fetch(`${URL}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'op2', password: 'op2-pass-123' }),
  });
  assert.strictEqual(r.status, 200);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const s = await connect({ extraHeaders: { cookie } }); // polling, then the upgrade
  assert.deepStrictEqual(await call(s, 'jog_backward', { state: true }), { ok: true });
  assert.deepStrictEqual(await call(s, 'jog_backward', { state: false }), { ok: true });
  s.disconnect();
  await fetch(`${URL}/api/auth/logout`, { method: 'POST', headers: { cookie } });
  await assert.rejects(connect({ transports: ['websocket'], extraHeaders: { cookie } }),
    /session ended or expired/);
});

test('jog held with renewals keeps the bit; stopping renewals releases it within 600 ms', async () => {
  const since = await lastSeq();
  const s = await connect({ transports: ['websocket'], auth: { token: OP } });
  assert.deepStrictEqual(await call(s, 'jog_forward', { state: true }), { ok: true });
  let last = Date.now();
  for (let i = 0; i < 8; i++) { // 1.6 s held
    await sleep(200);
    last = Date.now();
    assert.deepStrictEqual(await call(s, 'jog_forward', { state: true }), { ok: true });
  }
  const held = (await simWrites(since)).filter((x) => x.parameter === 'Jog_Forward');
  assert.ok(held.length >= 1 && held[0].after === true, 'set');
  assert.ok(held.every((x) => x.after === true), 'never released while renewed');
  const w = await writesOf('Jog_Forward', since, (x) => x.some((y) => y.after === false));
  const rel = w.find((x) => x.after === false);
  assert.ok(rel, 'released');
  const after = rel.wall_ms - last;
  console.log(`#   released ${after} ms after the last renewal`);
  assert.ok(after <= 600, `released ${after} ms after the last renewal`);
  // a held button does not restart it: refused until state:false
  const r = await call(s, 'jog_forward', { state: true });
  assert.strictEqual(r.ok, false);
  assert.deepStrictEqual(await call(s, 'jog_forward', { state: false }), { ok: true });
  s.disconnect();
});

test('state:false releases at once', async () => {
  const since = await lastSeq();
  const s = await connect({ transports: ['websocket'], auth: { token: OP } });
  assert.deepStrictEqual(await call(s, 'jog_backward', { state: true }), { ok: true });
  const t0 = Date.now();
  assert.deepStrictEqual(await call(s, 'jog_backward', { state: false }), { ok: true });
  const w = await writesOf('Jog_Backward', since, (x) => x.some((y) => y.after === false));
  const rel = w.find((x) => x.after === false);
  assert.ok(rel && rel.wall_ms - t0 < 200, 'released at once');
  s.disconnect();
});

test('an abrupt socket destroy releases the jog within 600 ms', async () => {
  const since = await lastSeq();
  const s = await connect({ transports: ['websocket'], auth: { token: OP } });
  assert.deepStrictEqual(await call(s, 'jog_forward', { state: true }), { ok: true });
  await sleep(150);
  await call(s, 'jog_forward', { state: true });
  const t0 = Date.now();
  s.io.engine.transport.ws._socket.destroy(); // the TCP connection, no close frame
  const w = await writesOf('Jog_Forward', since, (x) => x.some((y) => y.after === false));
  const rel = w.find((x) => x.after === false);
  assert.ok(rel, 'released');
  console.log(`#   released ${rel.wall_ms - t0} ms after the socket was destroyed`);
  assert.ok(rel.wall_ms - t0 <= 600, `released ${rel.wall_ms - t0} ms after the destroy`);
  s.disconnect();
});

test('one owner: a second client trying to jog releases it; both directions are refused', async () => {
  let since = await lastSeq();
  const a = await connect({ transports: ['websocket'], auth: { token: OP } });
  const b = await connect({ transports: ['websocket'], auth: { token: OP2 } });
  assert.deepStrictEqual(await call(a, 'jog_forward', { state: true }), { ok: true });
  const status = waitEvent(a, 'jog_status', (p) => !p.active, 3000);
  const r = await call(b, 'jog_forward', { state: true });
  assert.strictEqual(r.ok, false);
  assert.match((await status).reason, /second client/);
  let w = await writesOf('Jog_Forward', since, (x) => x.some((y) => y.after === false));
  assert.ok(w.some((x) => x.after === false), 'released');
  assert.strictEqual((await call(a, 'jog_forward', { state: true })).ok, false, 'a inhibited');
  await call(a, 'jog_forward', { state: false });
  await call(b, 'jog_forward', { state: false });
  // both directions at once
  since = await lastSeq();
  assert.deepStrictEqual(await call(a, 'jog_forward', { state: true }), { ok: true });
  assert.strictEqual((await call(a, 'jog_backward', { state: true })).ok, false);
  w = await writesOf('Jog_Forward', since, (x) => x.some((y) => y.after === false));
  assert.ok(w.some((x) => x.after === false), 'released');
  const back = (await simWrites(since)).filter((x) => x.parameter === 'Jog_Backward');
  assert.ok(!back.some((x) => x.after === true), 'backward never set');
  a.disconnect();
  b.disconnect();
});

test('a PLC reconnect releases the jog; the held button must be let go first', async () => {
  const s = await connect({ transports: ['websocket'], auth: { token: OP } });
  assert.deepStrictEqual(await call(s, 'jog_forward', { state: true }), { ok: true });
  const released = waitEvent(s, 'jog_status', (p) => !p.active, 5000);
  const since = await lastSeq();
  await simPost('/sim/faults', { frontend: RIG_FRONTEND, fault: 'drop', duration_ms: 300 });
  const renew = setInterval(() => s.emit('jog_forward', { state: true }), 200);
  try {
    assert.match((await released).reason, /PLC connection changed/);
    await waitEvent(s, 'connection_status', (x) => x.machine === 'rig' && x.connected, 8000)
      .catch(() => {}); // may have come before the listener
    const w = await writesOf('Jog_Forward', since, (x) => x.some((y) => y.after === false));
    assert.ok(w.some((x) => x.after === false), 'the bit is written off after the reconnect');
    await sleep(400);
    const again = (await simWrites(since)).filter((x) => x.parameter === 'Jog_Forward' && x.after);
    assert.strictEqual(again.length, 0, 'renewals after the reconnect did not restart it');
  } finally {
    clearInterval(renew);
  }
  assert.deepStrictEqual(await call(s, 'jog_forward', { state: false }), { ok: true });
  s.disconnect();
});

test('a malformed frame closes only that client', async () => {
  const a = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  const b = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  await call(b, 'subscribe', {});
  const gone = once(a, 'disconnect', 3000);
  a.io.engine.write('2["subscribe",{'); // "42[..." with broken JSON
  const [reason] = await gone;
  assert.match(reason, /transport close|io server disconnect/);
  let n = 0;
  b.on('live_data', () => n++);
  await sleep(600);
  assert.ok(b.connected && n >= 4, `the other client goes on (${n} live_data)`);
  b.disconnect();
});

// Raw Engine.IO long-polling, for what socket.io-client never sends.
async function pollSession() {
  const r = await fetch(`${URL}/socket.io/?EIO=4&transport=polling`);
  return JSON.parse((await r.text()).slice(1)).sid;
}
function pollUrl(sid) { return `${URL}/socket.io/?EIO=4&transport=polling&sid=${sid}`; }

test('a binary packet is refused at once, its attachments never buffered', async () => {
  const sid = await pollSession();
  await fetch(pollUrl(sid), { method: 'POST', body: '40' });
  // a BINARY_EVENT whose JSON is broken, with its attachment in the same body
  const r = await fetch(pollUrl(sid), { method: 'POST', body: '451-[\x1ebAQID' });
  assert.strictEqual(r.status, 200);
  await sleep(100);
  assert.strictEqual((await fetch(pollUrl(sid))).status, 400, 'the session is closed');
  const s = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  assert.ok(s.connected, 'the gateway goes on');
  s.disconnect();
});

test('a refused foreign-origin WebSocket, then a poll and a close at once', async () => {
  const WebSocket = require('ws');
  for (let i = 0; i < 3; i++) {
    const sid = await pollSession();
    const ws = new WebSocket(`${URL.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket&sid=${sid}`,
      { origin: 'http://evil.example' });
    const refused = await new Promise((resolve) => {
      ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('error'));
    });
    assert.notStrictEqual(refused, 'open', 'a foreign origin\'s WebSocket is refused');
    const [get, post] = await Promise.all([
      fetch(pollUrl(sid)),
      sleep(20).then(() => fetch(pollUrl(sid), { method: 'POST', body: '1' })),
    ]);
    assert.ok([200, 400].includes(get.status), `poll: ${get.status}`);
    assert.strictEqual(post.status, 200);
  }
  const s = await connect({ transports: ['websocket'], auth: { token: VIEWER } });
  assert.ok(s.connected, 'the gateway goes on');
  s.disconnect();
});

async function main() {
  if (!URL || !SIM || !OP || !OP2 || !VIEWER) {
    console.error('live.js: PLCGW_URL, SIM_URL, OP_TOKEN, OP2_TOKEN, VIEWER_TOKEN are needed');
    process.exit(2);
  }
  console.log(`1..${tests.length}`);
  let failed = 0;
  for (let i = 0; i < tests.length; i++) {
    const t = tests[i];
    let timer;
    try {
      await Promise.race([t.fn(), new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${TEST_MS} ms`)), TEST_MS);
      })]);
      console.log(`ok ${i + 1} - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${i + 1} - ${t.name}: ${e && e.message}`);
    } finally {
      clearTimeout(timer);
      for (const s of sockets) s.disconnect();
      sockets.clear();
    }
  }
  console.log(`# live: ${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
