// s7kit.js - what the S7 service tests share: plcgw sim started and
// stopped by its PID (the rig's map with S7 on a free port: startRingSim),
// node-snap7 clients with bounded calls, raw S7 frames over a socket.
// Every wait is bounded; every process started here or handed to track()
// is stopped by stopAll().
'use strict';

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const WAIT_MS = 10000;
const children = new Set();

function withTimeout(promise, ms, what) {
  let t;
  const timer = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

// A process started elsewhere, stopped by stopAll() if still running.
function track(child) {
  children.add(child);
  child.once('close', () => children.delete(child));
}

// SIGTERM by PID, SIGKILL after 5 s; resolves with the exit code (null if
// it had to be killed).
async function stopChild(child) {
  if (!child) return null;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await waitExit(child, 5000))) {
      console.log(`note: PID ${child.pid} ignored SIGTERM for 5 s, sending SIGKILL`);
      child.kill('SIGKILL');
      await waitExit(child, 2000);
    }
  }
  children.delete(child);
  return child.exitCode;
}

async function stopAll() {
  for (const child of [...children]) await stopChild(child);
}

// Starts `plcgw sim ARGS` in srcDir; resolves once every READY line it
// should print is there: {child, s7, modbus, control, stderr()}.
function startSim(plcgw, srcDir, args, want = ['s7']) {
  return new Promise((resolve, reject) => {
    const child = spawn(plcgw, ['sim', ...args], { cwd: srcDir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    let done = false;
    const finish = (e, v) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      if (e) stopChild(child).then(() => reject(e));
      else resolve(v);
    };
    const t = setTimeout(() => finish(new Error(`plcgw sim printed no READY within ${WAIT_MS} ms; ` +
                                                `stderr: ${err}`)), WAIT_MS);
    child.stdout.on('data', (d) => {
      out += d;
      const got = { child, stderr: () => err };
      for (const m of out.matchAll(/READY (\w+) (?:http:\/\/)?127\.0\.0\.1:(\d+)/g)) got[m[1]] = Number(m[2]);
      if (want.every((k) => got[k])) finish(null, got);
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => finish(e));
    child.on('exit', (code) => finish(new Error(`plcgw sim exited (${code}) before READY: ${err}`)));
  });
}

// `plcgw sim` with the rig's map (config/s7/ringstiff.json: DB1, DB2 and
// DB3) and its S7 server on 127.0.0.1, a free port (sim.s7); `more`
// arguments after those.
function startRingSim(plcgw, srcDir, ...more) {
  return startSim(plcgw, srcDir, ['--config', 'config/s7/ringstiff.json', '--s7', '127.0.0.1:0',
                                  ...more]);
}

function loadSnap7(srcDir) {
  return require(path.resolve(srcDir, 'node_modules', 'node-snap7'));
}

const keepAlive = []; // node-snap7 objects must outlive every callback

// A node-snap7 client for 127.0.0.1:port with 3 s timeouts (not connected).
function snap7Client(snap7, port) {
  const c = new snap7.S7Client();
  keepAlive.push(c);
  c.SetParam(c.RemotePort, port);
  c.SetParam(c.PingTimeout, 3000);
  c.SetParam(c.SendTimeout, 3000);
  c.SetParam(c.RecvTimeout, 3000);
  return c;
}

// A node-snap7 call with a callback, bounded: resolves {err, data}.
function call(c, method, ...args) {
  const p = new Promise((resolve) => {
    c[method](...args, (err, data) => resolve({ err: err || 0, data }));
  });
  return withTimeout(p, WAIT_MS, `snap7 ${method}`);
}

function snapErr(c, r) {
  return r.err ? `error 0x${r.err.toString(16)}: ${c.ErrorText(r.err)}` : 'no error';
}

// A raw ISO-on-TCP connection: COTP CR (rack 0 slot 1) and setup with PDU
// `pdu`; then exchange(bytes) sends one S7 PDU in a DT and resolves with
// the next whole TPKT packet's S7 PDU (Buffer), or null when the server
// closed the connection.
async function rawConnect(port, pdu = 480) {
  const sock = net.connect(port, '127.0.0.1');
  await withTimeout(new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); }),
                    WAIT_MS, 'raw connect');
  let buf = Buffer.alloc(0);
  let closed = false;
  const waiters = [];
  const pump = () => {
    while (waiters.length) {
      if (buf.length >= 4) {
        const len = buf.readUInt16BE(2);
        if (buf.length >= len) {
          const pkt = buf.subarray(0, len);
          buf = buf.subarray(len);
          waiters.shift()(pkt);
          continue;
        }
      }
      if (closed) { waiters.shift()(null); continue; }
      break;
    }
  };
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); pump(); });
  sock.on('close', () => { closed = true; pump(); });
  sock.on('error', () => {});
  const packet = () => withTimeout(new Promise((r) => { waiters.push(r); pump(); }), WAIT_MS, 'raw packet');
  const tpkt = (payload) => {
    const b = Buffer.alloc(4 + payload.length);
    b[0] = 3; b.writeUInt16BE(b.length, 2); payload.copy(b, 4);
    return b;
  };
  sock.write(tpkt(Buffer.from([0x11, 0xE0, 0, 0, 0, 1, 0, 0xC0, 1, 0x0A, 0xC1, 2, 1, 0,
                               0xC2, 2, 1, 1])));
  if (!(await packet())) throw new Error('raw: no COTP CC');
  const exchange = async (s7) => {
    sock.write(tpkt(Buffer.concat([Buffer.from([0x02, 0xF0, 0x80]), Buffer.from(s7)])));
    const pkt = await packet();
    return pkt ? pkt.subarray(7) : null;
  };
  const setup = await exchange([0x32, 1, 0, 0, 0, 1, 0, 8, 0, 0, 0xF0, 0, 0, 1, 0, 1,
                                pdu >> 8, pdu & 0xFF]);
  if (!setup) throw new Error('raw: no setup answer');
  // further packets the server sends unasked (a download's jobs)
  return { sock, exchange, packet, close: () => sock.destroy() };
}

module.exports = { WAIT_MS, withTimeout, track, stopChild, stopAll, startSim, startRingSim,
                   loadSnap7, snap7Client, call, snapErr, rawConnect };
