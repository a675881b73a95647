// live_fanout.js URL SERVER_PID SECONDS N... - N socket.io clients
// (WebSocket transport) subscribed to live_data for SECONDS each round:
// the delivered rate, the end-to-end latency (receive time minus the
// server's `ts`, in ms), and the server's CPU (of one core) and resident
// memory, printed as a table row labelled $SERVER (plcgw, or node's
// socket.io server). The clients are spread over up to 4 worker processes
// (live_fanout.js --worker URL N).
'use strict';
const fs = require('node:fs');
const { io } = require('socket.io-client');

const WORKER = process.argv[2] === '--worker';
const [URL, PID, SECS, ...COUNTS] = process.argv.slice(WORKER ? 3 : 2);
const secs = Number(SECS);

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function cpuTicks() { // utime + stime of the gateway, in clock ticks (100 Hz)
  const f = fs.readFileSync(`/proc/${PID}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

function status(key) {
  const m = fs.readFileSync(`/proc/${PID}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
}

function connectOne() {
  return new Promise((resolve, reject) => {
    const s = io(URL, { transports: ['websocket'], reconnection: false, timeout: 10000 });
    const t = setTimeout(() => { s.close(); reject(new Error('connect timeout')); }, 10000);
    s.once('connect', () => { clearTimeout(t); resolve(s); });
    s.once('connect_error', (e) => { clearTimeout(t); reject(e); });
  });
}

// The same client speaking the protocols itself on `ws` (which
// socket.io-client uses under it in node): the Engine.IO open, ping/pong,
// the Socket.IO CONNECT, `subscribe` with its ack, and live_data parsed
// with JSON.parse. It costs its process a fraction of the library's work
// per message, so that with 1,000 clients on a small machine what is
// measured is the server, not the clients' own decoding.
function connectLight() {
  const WebSocket = require('ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${URL.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const c = { ws, onLive: null, close: () => ws.close() };
    const t = setTimeout(() => { ws.terminate(); reject(new Error('connect timeout')); }, 10000);
    ws.on('message', (buf) => {
      const d = buf.toString();
      if (d[0] === '0') ws.send('40');
      else if (d === '2') ws.send('3');
      else if (d.startsWith('40')) ws.send('420["subscribe",{}]');
      else if (d.startsWith('430')) { clearTimeout(t); resolve(c); }
      else if (d.startsWith('42')) {
        const [name, payload] = JSON.parse(d.slice(2));
        if (name === 'live_data' && c.onLive) c.onLive(payload);
      } else if (d.startsWith('44')) { clearTimeout(t); reject(new Error(d)); }
    });
    ws.on('error', (e) => { clearTimeout(t); reject(e); });
  });
}

// A worker process: connects `n` clients, subscribes them, and counts
// live_data between the parent's "start" and "stop"; sends back its
// latencies. Several workers share the receiving, so that the clients'
// own event loop does not become what is measured.
async function worker(n) {
  const light = process.env.CLIENT === 'light';
  const clients = [];
  for (let i = 0; i < n; i += 50) { // in batches: the listen queue is not flooded
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) },
      light ? connectLight : connectOne));
    clients.push(...batch);
  }
  let counting = false;
  const lat = [];
  const onLive = (d) => { if (counting) lat.push(Date.now() - d.ts); };
  if (light) {
    for (const c of clients) c.onLive = onLive;
  } else {
    for (const s of clients) s.on('live_data', onLive);
    await Promise.all(clients.map((s) => s.timeout(10000).emitWithAck('subscribe', {})));
  }
  process.on('message', (m) => {
    if (m === 'start') counting = true;
    if (m === 'stop') {
      counting = false;
      for (const s of clients) s.close();
      process.send({ lat }, () => process.exit(0));
    }
  });
  process.send('ready');
}

async function round(n) {
  const { fork } = require('node:child_process');
  const k = Math.max(1, Math.min(Number(process.env.WORKERS || 4), Math.ceil(n / 125)));
  const kids = [];
  for (let i = 0; i < k; i++) {
    const share = Math.floor(n / k) + (i < n % k ? 1 : 0);
    kids.push(fork(__filename, ['--worker', URL, String(share)]));
  }
  const msg = (kid, pred) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('a worker did not answer')), 120000);
    kid.on('message', (m) => { if (pred(m)) { clearTimeout(t); resolve(m); } });
    kid.on('exit', (c) => { if (c) { clearTimeout(t); reject(new Error(`a worker exited ${c}`)); } });
  });
  await Promise.all(kids.map((kid) => msg(kid, (m) => m === 'ready')));
  await sleep(1000); // steady
  const c0 = cpuTicks();
  const t0 = Date.now();
  kids.forEach((kid) => kid.send('start'));
  await sleep(secs * 1000);
  const results = kids.map((kid) => msg(kid, (m) => m && m.lat));
  kids.forEach((kid) => kid.send('stop'));
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = (cpuTicks() - c0) / elapsed; // ticks per s = % of one core
  const rss = status('VmRSS');
  const lat = (await Promise.all(results)).flatMap((r) => r.lat);
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : NaN);
  return { n, k, rate: lat.length / elapsed / n, total: lat.length / elapsed, p50: pct(0.5),
    p99: pct(0.99), max: lat.length ? lat[lat.length - 1] : NaN, cpu, rss };
}

async function main() {
  const label = process.env.SERVER || 'plcgw';
  if (process.env.HEADER !== '0') {
    console.log(`live_fanout: ${secs} s a round, WebSocket transport, live_data of the rig at 10 Hz`);
    console.log('server    | client       | clients | per client /s | total /s | p50 ms | p99 ms | max ms | CPU % | RSS MB | peak MB');
    console.log('--------- | ------------ | ------: | -----------: | -------: | -----: | -----: | -----: | ----: | -----: | ------:');
  }
  for (const c of COUNTS) {
    const r = await round(Number(c));
    const kind = process.env.CLIENT === 'light' ? 'light (ws)' : 'socket.io';
    console.log(`${label.padEnd(9)} | ${kind.padEnd(12)} | ${String(r.n).padStart(7)} | ${r.rate.toFixed(2).padStart(12)} | ` +
      `${r.total.toFixed(0).padStart(8)} | ${String(r.p50).padStart(6)} | ${String(r.p99).padStart(6)} | ` +
      `${String(r.max).padStart(6)} | ${r.cpu.toFixed(1).padStart(5)} | ${(r.rss / 1024).toFixed(1).padStart(6)} | ` +
      `${(status('VmHWM') / 1024).toFixed(1).padStart(7)}`);
  }
  process.exit(0);
}

if (WORKER) {
  worker(Number(PID)).catch((e) => { console.error(`live_fanout worker: ${e.message}`); process.exit(1); });
} else {
  main().catch((e) => { console.error(`live_fanout: ${e.message}`); process.exit(1); });
}
