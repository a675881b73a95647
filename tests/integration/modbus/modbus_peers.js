#!/usr/bin/env node
// modbus_peers.js PLCGW SOURCE_DIR [MBPOLL] - plcgw's Modbus TCP against
// independent implementations:
//   a. our client (plcgw read / write) against modbus-serial's ServerTCP:
//      the seed's example map decoded as docs/mapping.md says, the read
//      plan seen from the server's side, writes, a device exception, the
//      mask-write fallback (modbus-serial has no FC 22), the unit id;
//   b. modbus-serial's client against our server (plcgw sim): FC 1/2/3/4
//      reads and FC 5/6/15/16 writes, cross-checked with plcgw read/write;
//   c. Debian's mbpoll reading (and writing) our server;
//   d. bad payloads: exit 2 with the reason, and nothing on the wire (no
//      connection at modbus-serial's server at all, values unchanged in
//      our server).
// Expected register values are worked out from docs/mapping.md (default
// byteorder "<", wordorder ">": every register's bytes swapped). Everything
// listens on 127.0.0.1 on ports chosen at run time; every process started
// here is stopped by its PID; every wait is bounded (<= 10 s) and the whole
// file is bounded (55 s).
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const plcgw = process.argv[2] && path.resolve(process.argv[2]);
const srcDir = path.resolve(process.argv[3] || path.join(__dirname, '..', '..', '..'));
const mbpoll = process.argv[4] || 'mbpoll';
if (!plcgw) {
  console.error('usage: node modbus_peers.js PLCGW SOURCE_DIR [MBPOLL]');
  process.exit(2);
}

let ModbusRTU;
try {
  ModbusRTU = require(path.join(srcDir, 'node_modules', 'modbus-serial'));
} catch (e) {
  console.log(`FAIL cannot load modbus-serial from ${srcDir}/node_modules ` +
              `(run scripts/bootstrap): ${e.message}`);
  console.log('modbus_peers: 0 passed, 1 failed');
  process.exit(1);
}

const WAIT_MS = 10000;      // the longest any single wait may take
const FILE_MS = 55000;      // the whole file
const exampleMap = path.join(srcDir, 'config', 'modbus', 'example.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modbus_peers.'));
const children = new Set(); // processes started here, stopped by PID
const peers = new Set();    // modbus-serial servers and clients opened here
let pass = 0;
let fail = 0;
let currentCase = '';

// ------------------------------------------------------------ reporting

function check(name, ok, detail) {
  if (ok) {
    pass++;
  } else {
    fail++;
    console.log(`FAIL ${currentCase}: ${name}`);
    if (detail !== undefined) {
      const text = typeof detail === 'string' ? detail : JSON.stringify(detail);
      for (const line of text.split('\n').slice(0, 30)) console.log(`    ${line}`);
    }
  }
  return ok;
}

function eq(name, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  return check(name, ok, `got  ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
}

const hex = (v) => '0x' + v.toString(16).toUpperCase().padStart(4, '0');

// ------------------------------------------------------------ processes

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      resolve(child.exitCode);
      return;
    }
    const hard = setTimeout(() => {
      try { process.kill(child.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }, 5000);
    child.once('exit', (code) => {
      clearTimeout(hard);
      children.delete(child);
      resolve(code);
    });
    try { process.kill(child.pid, 'SIGTERM'); } catch (e) { /* gone */ }
  });
}

// Runs a command to completion (killed by PID after WAIT_MS).
function run(cmd, args) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(child.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }, WAIT_MS);
    let done = false;
    const finish = (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: timedOut ? 'timeout' : code, out, err, ms: Date.now() - t0 });
    };
    child.on('error', (e) => { err += `${cmd}: ${e.message}`; finish('spawn error'); });
    child.on('close', (code) => finish(code));
  });
}

const plcgwRun = (...args) => run(plcgw, args);

// plcgw sim serving a tag map; resolves with its port once READY.
function startSim(map) {
  return new Promise((resolve, reject) => {
    const child = spawn(plcgw, ['sim', '--config', map, '--modbus', '127.0.0.1:0'],
                        { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      stopChild(child);
      reject(new Error(`plcgw sim not READY within ${WAIT_MS} ms: ${out} ${err}`));
    }, WAIT_MS);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY modbus 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`plcgw sim exited ${code}: ${err}`));
    });
  });
}

// ------------------------------------------------------------ modbus-serial peers

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result in ${WAIT_MS} ms`)), WAIT_MS);
    }),
  ]);
}

// A modbus-serial ServerTCP over four 65536-entry tables. Every callback is
// counted; failIr makes an input register throw the documented exception
// object, failHrWrite makes a register write throw a plain Error (exception
// 4, server device failure).
function startPeerServer(unitID) {
  const st = {
    hr: new Uint16Array(65536), ir: new Uint16Array(65536),
    co: new Uint8Array(65536), di: new Uint8Array(65536),
    reads: { hr: [], ir: [], co: [], di: [] },
    writes: [], connections: 0,
    failIr: new Set(), failHrWrite: new Set(),
  };
  const vector = {
    getInputRegister(addr) {
      st.reads.ir.push(addr);
      if (st.failIr.has(addr)) throw { modbusErrorCode: 0x02, msg: 'Illegal data address' };
      return st.ir[addr];
    },
    getHoldingRegister(addr) {
      st.reads.hr.push(addr);
      return st.hr[addr];
    },
    getCoil(addr) {
      st.reads.co.push(addr);
      return st.co[addr] === 1;
    },
    getDiscreteInput(addr) {
      st.reads.di.push(addr);
      return st.di[addr] === 1;
    },
    setRegister(addr, value) {
      st.writes.push(['reg', addr, value]);
      if (st.failHrWrite.has(addr)) throw new Error('the device is busy');
      st.hr[addr] = value;
    },
    setCoil(addr, value) {
      st.writes.push(['coil', addr, value]);
      st.co[addr] = value ? 1 : 0;
    },
  };
  st.resetCounts = () => {
    st.reads = { hr: [], ir: [], co: [], di: [] };
    st.writes = [];
  };
  return withTimeout(new Promise((resolve, reject) => {
    // modbus-serial replaces a port of 0 by 502; the string "0" reaches
    // net.Server.listen as "any free port"
    const opts = { host: '127.0.0.1', port: '0' };
    if (unitID) opts.unitID = unitID;
    const server = new ModbusRTU.ServerTCP(vector, opts);
    peers.add(server);
    server.on('serverError', reject);
    server.on('socketError', () => { /* a client went away */ });
    server._server.on('connection', () => { st.connections++; });
    server.on('initialized', () => {
      st.server = server;
      st.port = server._server.address().port;
      resolve(st);
    });
  }), 'modbus-serial ServerTCP');
}

function closePeerServer(st) {
  return withTimeout(new Promise((resolve) => {
    peers.delete(st.server);
    st.server.close(() => resolve());
  }), 'closing ServerTCP').catch(() => {});
}

async function peerClient(port) {
  const client = new ModbusRTU();
  peers.add(client);
  await withTimeout(client.connectTCP('127.0.0.1', { port }), 'modbus-serial connectTCP');
  client.setID(1);
  client.setTimeout(2000);
  return client;
}

function closeClient(client) {
  peers.delete(client);
  return withTimeout(new Promise((resolve) => client.close(() => resolve())),
                     'closing client').catch(() => {});
}

// ------------------------------------------------------------ expectations

// The seed's example map as docs/mapping.md decodes it, from the registers
// below (byteorder "<": a register's bytes are swapped before decoding).
const EXAMPLE_REGS = {
  di: { 0: 1, 1: 0 },
  ir: {
    1: 0x0300,              // Operating State 3 "Running"
    2: 0x0100,              // Compressor Running 1 "On"
    3: 0x80C0, 4: 0x0000,   // Warning State -4.0f = 0xC0800000
    11: 0x9142, 12: 0x0000, // Oil Temp 72.5f = 0x42910000
    31: 0x3930,             // Panel Serial Number 0x3039 = 12345
    33: 0x0201,             // Software Rev 0x0102 = 258
    34: 0x89AB,             // TEST1 = /1 = 0x89, TEST2 = /2 = 0xAB (no swap)
  },
  hr: { 9: 0x9A0B },        // Water_Setpoint raw 0x0B9A = 2970 -> 24.0
};

function expectedExample(water) {
  const rec = (parameter, value, extra) => Object.assign({ parameter, value }, extra || {});
  const bits = (parameter, byte, names) =>
    names.map(([bit, name]) => ({ parameter, parameter_alt: name, value: ((byte >> bit) & 1) === 1 }));
  return [
    rec('UnitOn', true),
    rec('Unit_Alarm', false),
    rec('Operating State', 3, { value_alt: 'Running' }),
    rec('Compressor Running', 1, { value_alt: 'On' }),
    rec('Warning State', -4, { value_alt: 'Coolant OUT running High' }),
    rec('Oil Temp', 72.5),
    rec('Panel Serial Number', 12345),
    rec('Software Rev', 258),
    ...bits('TEST1', 0x89, [[7, 'test7']]),
    ...bits('TEST2', 0xAB, [0, 1, 2, 3, 4, 5, 6, 7].map((b) => [b, `test${b}`])),
    rec('Water_Setpoint.SP_r', water),
  ];
}

// The comparable part of plcgw read --json's records.
function essentials(records) {
  return records.map((r) => {
    const o = { parameter: r.parameter };
    if ('parameter_alt' in r) o.parameter_alt = r.parameter_alt;
    o.value = typeof r.value === 'number' ? Math.round(r.value * 1e9) / 1e9 : r.value;
    if ('value_alt' in r) o.value_alt = r.value_alt;
    return o;
  });
}

// Maps written here from JavaScript objects do not keep the key order
// (integer-like keys come first), so their records are compared sorted.
function sorted(records) {
  const key = (r) => `${r.parameter}\u0000${r.parameter_alt || ''}`;
  return records.slice().sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

function parseJson(text) {
  try { return JSON.parse(text); } catch (e) { return null; }
}

const EXAMPLE_PLAN = [
  '4 requests for 11 tags',
  '  FC 2 discrete inputs 0..1 (2): "UnitOn" "Unit_Alarm"',
  '  FC 3 holding registers 9..9 (1): "Water_Setpoint.SP_r"',
  '  FC 4 input registers 1..12 (12): "Operating State" "Compressor Running" "Warning State" ' +
    '"Oil Temp"',
  '  FC 4 input registers 31..34 (4): "Panel Serial Number" "Software Rev" "TEST1" "TEST2"',
  '',
].join('\n');

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

// ------------------------------------------------------------ a. our client, their server

async function caseOurClientTheirServer() {
  currentCase = 'a. plcgw read/write against modbus-serial ServerTCP';
  const st = await startPeerServer();
  try {
    for (const [cls, regs] of Object.entries(EXAMPLE_REGS))
      for (const [a, v] of Object.entries(regs)) st[cls][Number(a)] = v;
    const port = String(st.port);
    const base = ['--host', '127.0.0.1', '--port', port, '--config', exampleMap];

    // the plan needs no device
    let r = await plcgwRun('read', ...base, '--plan');
    check('--plan exits 0', r.code === 0, r.err);
    eq('--plan output', r.out, EXAMPLE_PLAN);

    r = await plcgwRun('read', ...base, '--json', '--debug');
    check('read exits 0', r.code === 0, r.err);
    const records = parseJson(r.out);
    check('read prints JSON', Array.isArray(records), r.out);
    if (records) eq('example decoded as docs/mapping.md says', essentials(records), expectedExample(24));
    check('read says 4 requests', /4 requests for 11 tags/.test(r.err), r.err);
    // the plan as the server saw it: every covered address once, the
    // gap 13..30 never
    eq('FC 4 addresses read', st.reads.ir.slice().sort((x, y) => x - y),
       [...range(1, 12), ...range(31, 34)]);
    eq('FC 2 addresses read', st.reads.di, [0, 1]);
    eq('FC 3 addresses read', st.reads.hr, [9]);
    eq('no writes during a read', st.writes, []);

    r = await plcgwRun('read', ...base);
    check('text read exits 0', r.code === 0, r.err);
    check('text line with enumeration', /^Operating State +3 +Running$/m.test(r.out), r.out);
    check('text line with unit', /^Oil Temp +72\.5 e\.g\. Fahrenheit$/m.test(r.out), r.out);
    check('text line for a bit', /^TEST2\.test5 +true$/m.test(r.out), r.out);

    // the watermaker map (byteorder ">", wordorder ">"): 8 requests, and
    // the server sees exactly the addresses of the hand-checked plan
    const wm = path.join(srcDir, 'config', 'modbus', 'watermaker.json');
    st.resetCounts();
    st.hr[128] = 1800;                  // DTS Priming Timer 1800 * 0.1 = 180 s
    st.hr[1000] = 7;                    // System Mode 7, "DTS Running/Production"
    st.hr[5014] = 0x449A;               // Runtime Hours: wordorder ">", the high word
    st.hr[5015] = 0x0000;               //   first: 0x449A0000 = 1232.0f
    r = await plcgwRun('read', '--host', '127.0.0.1', '--port', port, '--config', wm,
                       '--json', '--debug');
    check('watermaker read exits 0', r.code === 0, r.err);
    check('watermaker: 8 requests', /8 requests for 40 tags/.test(r.err), r.err);
    eq('watermaker: FC 3 addresses read', st.reads.hr.slice().sort((x, y) => x - y), [
      ...range(67, 71), ...range(128, 139), ...range(257, 265), ...range(513, 519),
      ...range(1000, 1017), 1036, ...range(1120, 1125), ...range(5014, 5035)]);
    const wmr = parseJson(r.out) || [];
    const pick = (name) => essentials(wmr.filter((x) => x.parameter === name));
    eq('watermaker: scaled timer', pick('DTS Priming Timer'),
       [{ parameter: 'DTS Priming Timer', value: 180 }]);
    eq('watermaker: enumeration', pick('System Mode'),
       [{ parameter: 'System Mode', value: 7, value_alt: 'DTS Running/Production' }]);
    eq('watermaker: float in word order ">" (high word at the lower address)', pick('Runtime Hours'),
       [{ parameter: 'Runtime Hours', value: 1232 }]);

    // writes: 30.5 -> (30.5 + 273) / 0.1 = 3035 = 0x0BDB, byteorder "<" -> 0xDB0B
    for (const [value, raw] of [[30.5, 0xDB0B], [10, 0x0E0B], [50, 0x9E0C]]) {
      st.resetCounts();
      r = await plcgwRun('write', ...base, '--payload', JSON.stringify({ 'Water_Setpoint.SP_r': value }));
      check(`write ${value} exits 0`, r.code === 0, r.err);
      eq(`write ${value}: one FC 6 with the raw register`, st.writes, [['reg', 9, raw]]);
      check(`write ${value}: register ${hex(raw)}`, st.hr[9] === raw, hex(st.hr[9]));
    }
    st.hr[9] = 0xDB0B;
    r = await plcgwRun('read', ...base, '--json');
    const back = parseJson(r.out);
    if (check('read back exits 0', r.code === 0 && back, r.err))
      eq('read back 30.5', essentials(back), expectedExample(30.5));

    // a device exception fails its request only
    st.failIr.add(31);
    r = await plcgwRun('read', ...base, '--json');
    check('exception: read exits 1', r.code === 1, `${r.code} ${r.err}`);
    check('exception named', /exception 2, illegal data address/.test(r.err), r.err);
    check('exception names the tag and request',
          /Panel Serial Number.*FC 4 at 31\.\.34/.test(r.err), r.err);
    const partial = parseJson(r.out);
    const failed = new Set(['Panel Serial Number', 'Software Rev', 'TEST1', 'TEST2']);
    if (check('exception: other tags still print', Array.isArray(partial), r.out))
      eq('exception: the tags of the other requests', essentials(partial),
         expectedExample(30.5).filter((x) => !failed.has(x.parameter)));
    st.failIr.clear();

    // a write the device refuses: exit 1 with the exception named
    st.failHrWrite.add(9);
    r = await plcgwRun('write', ...base, '--payload', '{"Water_Setpoint.SP_r": 20}');
    check('refused write exits 1', r.code === 1, `${r.code} ${r.err}`);
    check('refused write: exception 4 named', /exception 4, server device failure/.test(r.err),
          r.err);
    check('refused write names the parameter', /Water_Setpoint\.SP_r/.test(r.err), r.err);
    st.failHrWrite.clear();

    // modbus-serial has no FC 22: a byte half is written by FC 3 + FC 6
    const halfMap = path.join(tmp, 'halves.json');
    fs.writeFileSync(halfMap, JSON.stringify({
      mapping: {
        '40020/1': { parameter: 'hi', function: 'decode_8bit_uint' },
        '40020/2': { parameter: 'lo', function: 'decode_8bit_uint' },
        '40021/2': { parameter: 'TEST2', function: 'decode_bits',
                     map: { '0b00000001': 'test0', '0b00001000': 'test3' } },
      },
    }));
    const hbase = ['--host', '127.0.0.1', '--port', port, '--config', halfMap];
    st.hr[20] = 0xAB00;
    st.hr[21] = 0xF0F0;
    st.resetCounts();
    r = await plcgwRun('write', ...hbase, '--payload', '{"lo": 92}', '--debug');
    check('half write exits 0', r.code === 0, r.err);
    check('half write keeps the other byte', st.hr[20] === 0xAB5C, hex(st.hr[20]));
    eq('half write: read then write', [st.reads.hr, st.writes], [[20], [['reg', 20, 0xAB5C]]]);
    check('half write: says it falls back', /refuses mask write \(FC 22\)/.test(r.err), r.err);
    st.resetCounts();
    r = await plcgwRun('write', ...hbase, '--payload', '{"hi": 18, "TEST2": {"test3": true}}');
    check('two partial writes exit 0', r.code === 0, r.err);
    check('hi written, lo kept', st.hr[20] === 0x125C, hex(st.hr[20]));
    check('one named bit written', st.hr[21] === 0xF0F8, hex(st.hr[21]));
    eq('two read-modify-writes', [st.reads.hr, st.writes],
       [[20, 21], [['reg', 20, 0x125C], ['reg', 21, 0xF0F8]]]);
    r = await plcgwRun('read', ...hbase, '--json');
    const halves = parseJson(r.out);
    if (check('halves read', r.code === 0 && halves, r.err))
      eq('halves values', essentials(halves), [
        { parameter: 'hi', value: 0x12 }, { parameter: 'lo', value: 0x5C },
        { parameter: 'TEST2', parameter_alt: 'test0', value: false },
        { parameter: 'TEST2', parameter_alt: 'test3', value: true },
      ]);

    // (d) bad payloads: exit 2, the reason, and not even a connection
    currentCase = 'd. bad payloads against modbus-serial ServerTCP';
    const conns = st.connections;
    st.resetCounts();
    await badPayloads(base);
    check('no connection for bad payloads', st.connections === conns,
          `${st.connections - conns} connections`);
    eq('no request for bad payloads', [st.reads, st.writes],
       [{ hr: [], ir: [], co: [], di: [] }, []]);
    check('setpoint unchanged', st.hr[9] === 0xDB0B, hex(st.hr[9]));
  } finally {
    await closePeerServer(st);
  }

  // the unit id: a server for unit 5 ignores unit 1
  currentCase = 'a. unit id against modbus-serial ServerTCP';
  const st5 = await startPeerServer(5);
  try {
    st5.hr[9] = 0x9A0B;
    const base = ['--host', '127.0.0.1', '--port', String(st5.port), '--config', exampleMap];
    let r = await plcgwRun('read', ...base, '--unit', '5', '--json');
    check('--unit 5 reads', r.code === 0, r.err);
    r = await plcgwRun('read', ...base, '--timeout-ms', '300', '--json');
    check('unit 1 gets no answer: exit 1', r.code === 1, `${r.code} ${r.err}`);
    check('unit 1: says no answer in time', /no answer in time/.test(r.err), r.err);
    check('unit 1: within the timeout', r.ms < 3000, `${r.ms} ms`);
  } finally {
    await closePeerServer(st5);
  }
}

const BAD_PAYLOADS = [
  [{ 'Water_Setpoint.SP_r': 20, nope: 1 }, /unknown parameter "nope"/],
  [{ 'Water_Setpoint.SP_r': 60 }, /above its maximum 50/],
  [{ 'Water_Setpoint.SP_r': 9 }, /below its minimum 10/],
  [{ 'Water_Setpoint.SP_r': 'warm' }, /expects a number, got a string/],
  [{ 'Oil Temp': 1.5, 'Water_Setpoint.SP_r': 20 }, /input register \(3xxxx\) and cannot be written/],
  [{ UnitOn: true }, /discrete input \(1xxxx\) and cannot be written/],
  [{ TEST2: { test3: true } }, /input register \(3xxxx\) and cannot be written/],
];

async function badPayloads(base) {
  for (const [payload, says] of BAD_PAYLOADS) {
    const text = JSON.stringify(payload);
    const r = await plcgwRun('write', ...base, '--payload', text);
    check(`${text}: exit 2`, r.code === 2, `${r.code} ${r.err}`);
    check(`${text}: says why`, says.test(r.err), r.err);
    check(`${text}: nothing was written`, /nothing was written/.test(r.err), r.err);
  }
  const r = await plcgwRun('write', ...base, '--payload', '{"Water_Setpoint.SP_r": ');
  check('malformed payload: exit 2', r.code === 2, `${r.code} ${r.err}`);
  check('malformed payload: position', /^--payload:1:\d+: error:/m.test(r.err), r.err);
}

// ------------------------------------------------------------ b, c. their client and mbpoll, our server

async function caseTheirClientOurServer() {
  currentCase = 'b. modbus-serial client against plcgw sim';
  // the example map with initial values (defaultValue) for every tag
  const ex = JSON.parse(fs.readFileSync(exampleMap, 'utf8'));
  const defaults = {
    10000: true, 10001: false, 30001: 3, 30002: 1, 30003: -4, 30011: 72.5, 30031: 12345,
    30033: 258, '30034/1': { test7: true }, '30034/2': 0xAB, 40009: 24,
  };
  for (const [key, v] of Object.entries(defaults)) {
    ex.mapping[key].defaultValue = v;
    delete ex.mapping[key].defaultvalue;
  }
  const simMap = path.join(tmp, 'example_defaults.json');
  fs.writeFileSync(simMap, JSON.stringify(ex, null, 2));
  const coilMap = path.join(tmp, 'coils.json');
  fs.writeFileSync(coilMap, JSON.stringify({
    endianness: { byteorder: '>', wordorder: '>' },
    mapping: {
      '00003': { parameter: 'c3' },
      '00010': { parameter: 'c10' }, '00011': { parameter: 'c11' },
      '00012': { parameter: 'c12' }, '00013': { parameter: 'c13' },
      '40040/40041': { parameter: 'w32', function: 'decode_32bit_uint' },
      '40042': { parameter: 'w16', function: 'decode_16bit_uint' },
    },
  }));

  const sim = await startSim(simMap);
  let client;
  try {
    const port = String(sim.port);
    const base = ['--host', '127.0.0.1', '--port', port, '--config', simMap];
    const cbase = ['--host', '127.0.0.1', '--port', port, '--config', coilMap];
    let r = await plcgwRun('read', ...base, '--json');
    const recs = parseJson(r.out);
    if (check('plcgw read of the sim exits 0', r.code === 0 && recs, r.err))
      eq('sim starts from defaultValue', sorted(essentials(recs)), sorted(expectedExample(24)));

    client = await peerClient(sim.port);
    // FC 2, 4, 3: the raw registers docs/mapping.md gives for those values
    let d = await withTimeout(client.readDiscreteInputs(0, 2), 'FC 2');
    eq('FC 2 discrete inputs 0..1', d.data.slice(0, 2), [true, false]);
    d = await withTimeout(client.readInputRegisters(1, 12), 'FC 4');
    eq('FC 4 input registers 1..12', d.data,
       [0x0300, 0x0100, 0x80C0, 0, 0, 0, 0, 0, 0, 0, 0x9142, 0]);
    d = await withTimeout(client.readInputRegisters(31, 4), 'FC 4');
    eq('FC 4 input registers 31..34', d.data, [0x3930, 0, 0x0201, 0x80AB]);
    d = await withTimeout(client.readHoldingRegisters(9, 1), 'FC 3');
    eq('FC 3 holding register 9', d.data, [0x9A0B]);

    // FC 6 from modbus-serial, seen by plcgw read
    await withTimeout(client.writeRegister(9, 0xDB0B), 'FC 6');
    r = await plcgwRun('read', ...base, '--json');
    const after6 = parseJson(r.out);
    if (check('read after FC 6', r.code === 0 && after6, r.err))
      eq('FC 6 0xDB0B reads as 30.5', sorted(essentials(after6)), sorted(expectedExample(30.5)));

    // FC 16, FC 5, FC 15 from modbus-serial, seen by modbus-serial and plcgw
    await withTimeout(client.writeRegisters(40, [0x1234, 0x5678, 0x9ABC]), 'FC 16');
    d = await withTimeout(client.readHoldingRegisters(40, 3), 'FC 3');
    eq('FC 16 then FC 3', d.data, [0x1234, 0x5678, 0x9ABC]);
    await withTimeout(client.writeCoil(3, true), 'FC 5');
    await withTimeout(client.writeCoils(10, [true, false, true, true]), 'FC 15');
    d = await withTimeout(client.readCoils(3, 1), 'FC 1');
    eq('FC 5 then FC 1', d.data.slice(0, 1), [true]);
    d = await withTimeout(client.readCoils(10, 4), 'FC 1');
    eq('FC 15 then FC 1', d.data.slice(0, 4), [true, false, true, true]);
    r = await plcgwRun('read', ...cbase, '--json');
    const coils = parseJson(r.out);
    if (check('plcgw read of coils and FC 16 registers', r.code === 0 && coils, r.err))
      eq('plcgw sees what modbus-serial wrote', sorted(essentials(coils)), sorted([
        { parameter: 'c3', value: true }, { parameter: 'c10', value: true },
        { parameter: 'c11', value: false }, { parameter: 'c12', value: true },
        { parameter: 'c13', value: true },
        { parameter: 'w32', value: 0x12345678 }, { parameter: 'w16', value: 0x9ABC },
      ]));

    // plcgw write, seen by modbus-serial
    r = await plcgwRun('write', ...cbase, '--payload', '{"c11": true, "c3": false, "w32": 3000000000}');
    check('plcgw write to the sim exits 0', r.code === 0, r.err);
    d = await withTimeout(client.readCoils(3, 1), 'FC 1');
    eq('FC 1 sees plcgw\'s FC 5 (c3)', d.data.slice(0, 1), [false]);
    d = await withTimeout(client.readCoils(10, 4), 'FC 1');
    eq('FC 1 sees plcgw\'s FC 5 (c11)', d.data.slice(0, 4), [true, true, true, true]);
    d = await withTimeout(client.readHoldingRegisters(40, 2), 'FC 3');
    eq('FC 3 sees plcgw\'s FC 16 (3000000000 = 0xB2D05E00)', d.data, [0xB2D0, 0x5E00]);

    // c. mbpoll (1-based references: -r 10 is holding register 9)
    currentCase = 'c. mbpoll against plcgw sim';
    r = await plcgwRun('write', ...base, '--payload', '{"Water_Setpoint.SP_r": 12.5}');
    check('plcgw write 12.5 exits 0', r.code === 0, r.err);
    // 12.5 -> (12.5 + 273) / 0.1 = 2855 = 0x0B27 -> byteorder "<": 0x270B
    r = await run(mbpoll, ['-m', 'tcp', '-a', '1', '-r', '10', '-c', '1', '-t', '4:hex', '-1',
                           '-p', port, '127.0.0.1']);
    check('mbpoll -t 4:hex exits 0', r.code === 0, `${r.code} ${r.out} ${r.err}`);
    check('mbpoll shows the written holding register', /^\[10\]:\s+0x270B$/m.test(r.out), r.out);
    r = await run(mbpoll, ['-m', 'tcp', '-a', '1', '-r', '2', '-c', '2', '-t', '3:hex', '-1',
                           '-p', port, '127.0.0.1']);
    check('mbpoll -t 3:hex exits 0', r.code === 0, `${r.code} ${r.out} ${r.err}`);
    check('mbpoll shows input registers 1..2',
          /^\[2\]:\s+0x0300$/m.test(r.out) && /^\[3\]:\s+0x0100$/m.test(r.out), r.out);
    r = await run(mbpoll, ['-m', 'tcp', '-a', '1', '-r', '1', '-c', '2', '-t', '1', '-1',
                           '-p', port, '127.0.0.1']);
    check('mbpoll shows discrete inputs 0..1',
          r.code === 0 && /^\[1\]:\s+1$/m.test(r.out) && /^\[2\]:\s+0$/m.test(r.out), r.out);
    r = await run(mbpoll, ['-m', 'tcp', '-a', '1', '-r', '11', '-c', '4', '-t', '0', '-1',
                           '-p', port, '127.0.0.1']);
    check('mbpoll shows coils 10..13', r.code === 0 &&
          ['1', '1', '1', '1'].every((v, i) => new RegExp(`^\\[${11 + i}\\]:\\s+${v}$`, 'm').test(r.out)),
          r.out);
    // mbpoll writes the raw register of 24.0 (0x9A0B = 39435); plcgw reads 24
    r = await run(mbpoll, ['-m', 'tcp', '-a', '1', '-r', '10', '-t', '4', '-1', '-p', port,
                           '127.0.0.1', '39435']);
    check('mbpoll write exits 0', r.code === 0, `${r.code} ${r.out} ${r.err}`);
    r = await plcgwRun('read', ...base, '--json');
    const afterMbpoll = parseJson(r.out);
    if (check('read after mbpoll', r.code === 0 && afterMbpoll, r.err))
      eq('mbpoll\'s 39435 reads as 24', sorted(essentials(afterMbpoll)),
         sorted(expectedExample(24)));

    // d. bad payloads against our server: refused, and nothing changed
    currentCase = 'd. bad payloads against plcgw sim';
    await badPayloads(base);
    d = await withTimeout(client.readHoldingRegisters(9, 1), 'FC 3');
    eq('setpoint unchanged after bad payloads', d.data, [0x9A0B]);
  } finally {
    if (client) await closeClient(client);
    const code = await stopChild(sim.child);
    currentCase = 'b. plcgw sim';
    check('sim stops cleanly on SIGTERM', code === 0, `exit ${code}`);
  }
}

// ------------------------------------------------------------ main

async function cleanup() {
  for (const p of peers) {
    try { p.close(() => {}); } catch (e) { /* closed */ }
  }
  peers.clear();
  await Promise.all([...children].map(stopChild));
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  const t0 = Date.now();
  const watchdog = setTimeout(async () => {
    console.log(`FAIL ${currentCase}: the file took longer than ${FILE_MS} ms`);
    fail++;
    await cleanup();
    console.log(`modbus_peers: ${pass} passed, ${fail} failed`);
    process.exit(1);
  }, FILE_MS);
  for (const c of [caseOurClientTheirServer, caseTheirClientOurServer]) {
    try {
      await c();
    } catch (e) {
      check(`unexpected error: ${e && e.message}`, false, e && e.stack);
    }
  }
  clearTimeout(watchdog);
  await cleanup();
  console.log(`modbus_peers: ${pass} passed, ${fail} failed (${Date.now() - t0} ms)`);
  process.exit(fail ? 1 : 0);
}

main();
