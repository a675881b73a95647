// hostile.js - attacks on `plcgw serve` (started by hostile.sh with small
// limits): each must get a clear 4xx or a protocol close, write nothing to
// the PLC, and leave the gateway serving. Raw sockets where the bytes
// matter; the official socket.io-client and ws where a real client does.
//
// Environment: PLCGW_URL, SIM_URL (the simulator's control API), GW_PID,
// OP_TOKEN (an operator's API token).
'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const { io } = require('socket.io-client');
const WebSocket = require('ws');

const URL = process.env.PLCGW_URL;
const SIM = process.env.SIM_URL;
const OP = process.env.OP_TOKEN;
const PID = process.env.GW_PID;
const PORT = Number(new globalThis.URL(URL).port);
const DEEP = '['.repeat(1000);
const TEST_MS = 30000;

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Sends bytes on a new connection (from localAddress), optionally
// half-closes, and returns everything that came back until the server
// closed or ms passed.
function raw(bytes, { localAddress = '127.0.0.1', halfClose = false, ms = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: PORT, localAddress });
    const chunks = [];
    const t = setTimeout(() => { s.destroy(); resolve(Buffer.concat(chunks)); }, ms);
    s.on('connect', () => { s.write(bytes); if (halfClose) s.end(); });
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks)); });
    s.on('error', (e) => { clearTimeout(t); if (chunks.length) resolve(Buffer.concat(chunks)); else reject(e); });
  });
}

// The status, headers and body of the first response in a buffer.
function parse(buf) {
  const text = buf.toString('latin1');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  assert.ok(m, `not an HTTP response: ${JSON.stringify(text.slice(0, 80))}`);
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end);
  const len = /\r\ncontent-length: (\d+)/i.exec(head);
  const body = buf.subarray(end + 4, end + 4 + (len ? Number(len[1]) : 0)).toString('utf8');
  return { status: Number(m[1]), head, body };
}

function request(method, path, { body = '', headers = {}, type = 'application/json' } = {}) {
  let h = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nConnection: close\r\n`;
  if (body !== null && (body.length || method !== 'GET')) h += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  if (type && body) h += `Content-Type: ${type}\r\n`;
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  return raw(Buffer.concat([Buffer.from(h + '\r\n', 'latin1'), Buffer.from(body || '')])).then(parse);
}

// A 4xx whose body is a problem document (valid JSON, UTF-8).
function problem(r, status, re) {
  assert.strictEqual(r.status, status, `${r.status}: ${r.body.slice(0, 200)}`);
  assert.match(r.head, /\r\ncontent-type: application\/problem\+json/i);
  const p = JSON.parse(r.body);
  assert.strictEqual(p.status, status);
  if (re) assert.match(p.detail, re);
  return p;
}

const auth = () => ({ Authorization: `Bearer ${OP}` });

async function simWrites() {
  return (await fetch(`${SIM}/sim/writes?since=0`)).json();
}

async function params() {
  return (await fetch(`${URL}/api/parameters`)).json();
}

async function alive() {
  const r = await fetch(`${URL}/api/health`);
  assert.strictEqual(r.status, 200, 'the gateway still answers');
}

function rss() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${PID}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

async function handshake() {
  const r = await fetch(`${URL}/socket.io/?EIO=4&transport=polling`);
  assert.strictEqual(r.status, 200);
  return JSON.parse((await r.text()).slice(1)).sid;
}

function connect(opts = {}) {
  return new Promise((resolve, reject) => {
    const s = io(URL, { reconnection: false, timeout: 5000, ...opts });
    const t = setTimeout(() => { s.close(); reject(new Error('no connect within 5 s')); }, 5000);
    s.once('connect', () => { clearTimeout(t); resolve(s); });
    s.once('connect_error', (e) => {
      // the answer's body, read in the handler (the client aborts its request after)
      e.body = e.context && e.context.responseText;
      clearTimeout(t);
      s.close();
      reject(e);
    });
  });
}

// A raw WebSocket to /socket.io/ (a WebSocket-only session): the socket,
// after the 101 and the open packet.
function wsRaw() {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const s = net.connect({ host: '127.0.0.1', port: PORT });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => { s.destroy(); reject(new Error('no 101')); }, 3000);
    s.on('connect', () => s.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || buf.length < end + 6) return;
      clearTimeout(t);
      s.off('data', onData);
      assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
      resolve(s);
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

function frame(b0, payload, { mask = true, b1extra = 0 } = {}) {
  const p = Buffer.from(payload);
  const hdr = [b0];
  if (p.length < 126) hdr.push((mask ? 0x80 : 0) | p.length | b1extra);
  else { hdr.push((mask ? 0x80 : 0) | 126, p.length >> 8, p.length & 255); }
  const m = Buffer.from([1, 2, 3, 4]);
  const body = mask ? Buffer.from(p.map((c, i) => c ^ m[i & 3])) : p;
  return Buffer.concat([Buffer.from(hdr), mask ? m : Buffer.alloc(0), body]);
}

// What the server sends until it closes (or ms): the close frame's code.
function closeCode(s, ms = 3000) {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => { s.destroy(); resolve(-1); }, ms);
    s.on('data', (d) => { buf = Buffer.concat([buf, d]); });
    s.on('close', () => {
      clearTimeout(t);
      for (let at = 0; at + 2 <= buf.length;) {
        let len = buf[at + 1] & 0x7f, h = 2;
        if (len === 126) { len = buf.readUInt16BE(at + 2); h = 4; }
        if ((buf[at] & 0x0f) === 8) return resolve(len >= 2 ? buf.readUInt16BE(at + h) : 1005);
        at += h + len;
      }
      resolve(0);
    });
  });
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ---------------------------------------------------------------- 1. nesting

test('1,000 [ to the login, the parameters and the control API: 400, no crash', async () => {
  problem(await request('POST', '/api/auth/login', { body: DEEP }), 400, /nesting deeper than 64/);
  problem(await request('POST', '/api/auth/login', { body: DEEP, type: null }), 415);
  problem(await request('POST', '/api/parameters', { body: DEEP, headers: auth() }), 400,
    /nesting deeper than 64/);
  const r = await fetch(`${SIM}/sim/faults`, { method: 'POST', body: DEEP,
    headers: { 'content-type': 'application/json' } });
  assert.strictEqual(r.status, 400);
  assert.match((await r.json()).detail, /nesting deeper than 64/);
  // as deep as fits in a body (64 KiB)
  problem(await request('POST', '/api/auth/login', { body: '{"a":'.repeat(13000) }), 400);
  await alive();
});

test('1,000 [ in a Socket.IO packet, polling (no CONNECT) and WebSocket: the session is closed', async () => {
  const sid = await handshake();
  const r = await fetch(`${URL}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
    { method: 'POST', body: `42${DEEP}` });
  assert.ok([200, 400].includes(r.status));
  await r.text();
  const g = await fetch(`${URL}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
  assert.strictEqual(g.status, 400, 'closed for a protocol error');
  await g.text();
  const s = await wsRaw();
  const closed = closeCode(s);
  s.write(frame(0x81, `42${DEEP}`));
  assert.notStrictEqual(await closed, -1, 'the WebSocket is closed');
  await alive();
});

// ---------------------------------------------------------------- 2. bytes

test('invalid UTF-8 in a path: 400, not 500', async () => {
  for (const p of ['/api/machines/%ff', '/api/machines/%c3%28', '/modbus/read/%ff',
    '/api/machines/%ed%a0%80']) {
    problem(await request('GET', p), 400, /UTF-8/);
  }
});

test('a long non-ASCII path and tag name: the detail is cut on a character', async () => {
  const p = problem(await request('GET', `/api/machines/a${'%c3%a9'.repeat(300)}`), 404);
  assert.ok(p.instance.startsWith('/api/machines/a\u00e9'));
  problem(await request('GET', `/api/machines/a${'%c3%a9'.repeat(1200)}`), 414);
  const name = '\u00e9'.repeat(600);
  const before = (await simWrites()).length;
  problem(await request('PUT', '/api/machines/watermaker/tags',
    { body: JSON.stringify({ [name]: 1 }), headers: auth() }), 422, /has no tag/);
  const q = problem(await request('PUT', '/modbus/write/watermaker',
    { body: `{"\u00e9${'x'.repeat(30000)}\u00e9": 1}`, headers: auth() }), 422);
  assert.ok(Buffer.byteLength(q.detail) <= 511);
  assert.strictEqual((await simWrites()).length, before, 'nothing written');
});

// ---------------------------------------------------------------- 3. whole requests

test('a body shorter than its Content-Length is never acted on', async () => {
  const before = (await params()).pipe_diameter;
  const head = `POST /api/parameters HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OP}\r\n` +
    'Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"pipe_diameter": 301}';
  // the client half-closes: 400 at once
  const t0 = Date.now();
  problem(parse(await raw(head, { halfClose: true })), 400, /ended before/);
  assert.ok(Date.now() - t0 < 900, 'at once');
  // the client stops sending: 408 after the body timeout
  problem(parse(await raw(head, { ms: 4000 })), 408);
  await sleep(200);
  assert.strictEqual((await params()).pipe_diameter, before, 'pipe_diameter unchanged');
});

test('ambiguous or malformed requests are refused', async () => {
  problem(parse(await raw('POST /api/parameters HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n' +
    'Content-Length: 3\r\n\r\nabc')), 400, /Content-Length/);
  problem(parse(await raw('POST /api/parameters HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n' +
    'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n')), 400);
  problem(await request('GET', '/api/machines/rig%00/tags'), 400, /NUL/);
  problem(parse(await raw('GET /api/status HTTP/1.1\r\n\r\n')), 400, /Host/);
  problem(parse(await raw('GET /api/status HTTP/1.1\r\nHost: x\r\nX: a\r\n  b\r\n\r\n')), 400,
    /folding/);
});

test('a command with a body that is not JSON does nothing', async () => {
  const before = (await simWrites()).length;
  problem(await request('POST', '/api/command/start', { body: 'garbage{', headers: auth() }), 400);
  problem(await request('POST', '/api/command/start', { body: 'garbage{', type: 'text/plain',
    headers: auth() }), 415);
  problem(await request('POST', '/api/command/start', { body: '{"go": 1}', headers: auth() }), 422);
  problem(await request('POST', '/api/parameters', { body: '{"pipe_diameter": 310}',
    type: 'text/plain', headers: auth() }), 415);
  problem(await request('POST', '/api/parameters', { body: '{"diameter":310,"pipe_diameter":311}',
    headers: auth() }), 422, /names Pipe_Diameter/);
  await sleep(200);
  assert.strictEqual((await simWrites()).length, before, 'nothing written');
});

test('OPTIONS * and an absolute-form target are answered', async () => {
  const o = parse(await raw(`OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  assert.strictEqual(o.status, 204);
  assert.match(o.head, /\r\nAllow: GET/);
  const a = parse(await raw(`GET http://127.0.0.1:${PORT}/api/health HTTP/1.1\r\nHost: x\r\n` +
    'Connection: close\r\n\r\n'));
  assert.strictEqual(a.status, 200);
});

// ---------------------------------------------------------------- 4. live channel

test('200 handshakes without CONNECT lock nobody out, and expire', async () => {
  // (past live.max_clients 40: the flood's own handshakes get 503)
  for (let i = 0; i < 200; i++) await (await fetch(`${URL}/socket.io/?EIO=4&transport=polling`)).text();
  await sleep(1100); // unconnected for a second: they count against the address
  const s = await connect();
  assert.ok(s.connected, 'a real client from the same address connects');
  const h = await (await fetch(`${URL}/api/health`)).json();
  assert.ok(h.live.clients <= 9, `${h.live.clients} sessions held (max_unconnected_per_address 8)`);
  await sleep(2000); // connect_timeout_ms 1500
  const h2 = await (await fetch(`${URL}/api/health`)).json();
  assert.strictEqual(h2.live.clients, 1, 'only the connected one is left');
  s.close();
});

test('the client limit: the one over it gets 503 naming live.max_clients', async () => {
  const clients = [];
  try {
    for (let i = 0; i < 40; i++) clients.push(await connect({ transports: ['websocket'] }));
    const err = await connect().then((s) => { s.close(); return null; }, (e) => e);
    assert.ok(err, 'refused');
    assert.strictEqual(err.description, 503);
    assert.match(err.body, /at most 40 clients.*live\.max_clients/);
    const r = await fetch(`${URL}/socket.io/?EIO=4&transport=polling`);
    assert.strictEqual(r.status, 503);
    assert.match((await r.json()).message, /live\.max_clients/);
  } finally {
    clients.forEach((s) => s.close());
  }
  await sleep(300);
});

test('WebSocket frames: too large, unmasked, RSV, long control: closed after the header', async () => {
  const before = rss();
  for (let i = 0; i < 4; i++) {
    const s = await wsRaw();
    const closed = closeCode(s);
    // a 256 MiB binary frame announced: refused from its header
    s.write(Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2, 3, 4]));
    s.write(Buffer.alloc(1 << 20)); // what a sender pushes before it notices
    assert.strictEqual(await closed, 1009);
  }
  assert.ok(rss() - before < 20 * 1024 * 1024, `RSS grew ${(rss() - before) >> 20} MB`);
  for (const [f, code] of [[frame(0x81, '40', { mask: false }), 1002], [frame(0xc1, '40'), 1002],
    [frame(0x89, 'x'.repeat(126)), 1002], [frame(0x81, Buffer.from([0xff])), 1007]]) {
    const s = await wsRaw();
    const closed = closeCode(s);
    s.write(f);
    assert.strictEqual(await closed, code);
  }
  await alive();
});

test('refused WebSocket upgrades answer a whole HTTP response (raw client)', async () => {
  const key = crypto.randomBytes(16).toString('base64');
  const hs = (q, extra = '') => `GET /socket.io/?${q} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade, close\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
  for (const [q, code, extra] of [['EIO=3&transport=websocket', 5], ['EIO=4&transport=websocket&sid=nope', 1],
    ['EIO=4&transport=bogus', 0], ['EIO=4&transport=websocket', 4, 'Origin: http://evil.example\r\n']]) {
    const r = parse(await raw(hs(q, extra)));
    assert.ok([400, 403].includes(r.status), `${q}: ${r.status}`);
    assert.match(r.head, /\r\ncontent-type: application\/json/i);
    assert.strictEqual(JSON.parse(r.body).code, code);
  }
});

test('refused WebSocket upgrades answer HTTP (Node ws sees a status, not a parse error)', async () => {
  for (const q of ['EIO=3&transport=websocket', 'EIO=4&transport=websocket&sid=nope',
    'EIO=4&transport=bogus']) {
    const code = await new Promise((resolve) => {
      const ws = new WebSocket(`${URL.replace('http', 'ws')}/socket.io/?${q}`);
      ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
      ws.on('error', (e) => resolve(e.message));
      ws.on('open', () => { ws.close(); resolve('open'); });
    });
    assert.strictEqual(code, 400, `${q}: ${code}`);
  }
});

// ---------------------------------------------------------------- 5. slow and idle

test('300 idle and 100 half-sent connections do not hold up the API', async () => {
  const socks = [];
  const open = (addr, bytes) => new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: PORT, localAddress: addr });
    s.on('connect', () => { if (bytes) s.write(bytes); resolve(s); });
    s.on('error', () => resolve(s));
    socks.push(s);
  });
  for (let i = 0; i < 300; i++) await open(`127.0.0.${10 + Math.floor(i / 50)}`);
  for (let i = 0; i < 100; i++) {
    await open(`127.0.0.${20 + Math.floor(i / 50)}`, i % 2 ? 'GET /api/status HTTP/1.1\r\nHo'
      : 'POST /api/parameters HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{');
  }
  const t0 = Date.now();
  const r = await fetch(`${URL}/api/status`, { signal: AbortSignal.timeout(2000) });
  assert.strictEqual(r.status, 200);
  await r.text();
  console.log(`#   /api/status with 400 idle or slow connections held: ${Date.now() - t0} ms`);
  socks.forEach((s) => s.destroy());
});

test('the per-address connection limit: the 51st is refused with 503', async () => {
  const socks = [];
  for (let i = 0; i < 50; i++) {
    socks.push(await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: PORT, localAddress: '127.0.0.30' });
      s.on('connect', () => resolve(s));
    }));
  }
  await sleep(100);
  const r = parse(await raw('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n', { localAddress: '127.0.0.30' }));
  problem(r, 503, /max_connections_per_address/);
  socks.forEach((s) => s.destroy());
  await sleep(200);
  const ok = parse(await raw('GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    { localAddress: '127.0.0.30' }));
  assert.strictEqual(ok.status, 200);
});

// ---------------------------------------------------------------- main

(async () => {
  let failed = 0;
  console.log(`1..${tests.length}`);
  for (const [i, t] of tests.entries()) {
    try {
      await Promise.race([t.fn(), sleep(TEST_MS).then(() => { throw new Error('timed out'); })]);
      console.log(`ok ${i + 1} - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${i + 1} - ${t.name}: ${e.message}`);
    }
  }
  console.log(`# hostile: ${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
