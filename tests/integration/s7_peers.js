#!/usr/bin/env node
// s7_peers.js PLCGW SOURCE_DIR - plcgw's own S7comm stack against
// independent implementations:
//   a. node-snap7's S7Client (snap7 C++) against our server (plcgw sim)
//   b. nodes7 (pure JavaScript client) against our server
//   c. our client (plcgw read / write) against node-snap7's S7Server
//   d. reads of many separate items with our client, against both servers
// Everything listens on 127.0.0.1 on ports chosen at run time; every
// process started here is stopped by its PID; every wait is bounded
// (<= 10 s) and the whole file is bounded (90 s).
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const kit = require('./s7kit.js');

const { WAIT_MS, withTimeout, stopChild, call, snapErr } = kit;
const plcgw = process.argv[2] && path.resolve(process.argv[2]);
const srcDir = path.resolve(process.argv[3] || path.join(__dirname, '..', '..'));
if (!plcgw) {
  console.error('usage: node s7_peers.js PLCGW SOURCE_DIR');
  process.exit(2);
}

let snap7, nodes7;
try {
  snap7 = require(path.join(srcDir, 'node_modules', 'node-snap7'));
  nodes7 = require(path.join(srcDir, 'node_modules', 'nodes7'));
} catch (e) {
  console.log(`FAIL cannot load the npm test peers from ${srcDir}/node_modules ` +
              `(run scripts/bootstrap): ${e.message}`);
  console.log('s7_peers: 0 passed, 1 failed');
  process.exit(1);
}

// WAIT_MS (s7kit.js): the longest any single wait may take
const FILE_MS = 90000;      // the whole file
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's7_peers.'));
const servers = new Set();  // node-snap7 servers started here
const keepAlive = [];       // every node-snap7 server made here (see startSnap7Server)
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

function checkEq(name, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return check(name, g === w, `got  ${g}\nwant ${w}`);
}

function hex(buf) {
  return buf ? Buffer.from(buf).toString('hex').replace(/(..)/g, '$1 ').trim() : String(buf);
}

function checkBytes(name, got, want) {
  const ok = Buffer.isBuffer(got) && Buffer.compare(got, Buffer.from(want)) === 0;
  return check(name, ok, `got  ${hex(got)}\nwant ${hex(Buffer.from(want))}`);
}

// float32 values compare after rounding the expectation to float32
function near(got, want) {
  if (typeof got !== 'number') return false;
  const w = Math.fround(want);
  return Math.abs(got - w) <= 1e-6 * Math.max(1, Math.abs(w));
}

// ------------------------------------------------------------ processes
// (started by PID and stopped by stopChild / kit.stopAll, s7kit.js)

// Stops our sim and checks that it stopped as it should on SIGTERM.
async function stopSim(sim) {
  const code = await stopChild(sim.child);
  check('plcgw sim stops on SIGTERM with exit status 0', code === 0, `exit ${code}\n${sim.stderr()}`);
}

// Runs plcgw with args; resolves {status, stdout, stderr}; killed after 10 s.
function runPlcgw(args) {
  return new Promise((resolve) => {
    const child = spawn(plcgw, args, { cwd: srcDir, stdio: ['ignore', 'pipe', 'pipe'] });
    kit.track(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, WAIT_MS);
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (status, signal) => {
      clearTimeout(t);
      if (timedOut) stderr += `\n(killed: no exit within ${WAIT_MS} ms)`;
      resolve({ status, signal, stdout, stderr, args });
    });
  });
}

function describeRun(r) {
  return `plcgw ${r.args.join(' ')}\nexit ${r.status}${r.signal ? ' signal ' + r.signal : ''}\n` +
         `stdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}`;
}

// Starts `plcgw sim --config config/s7/ringstiff.json --s7 127.0.0.1:0`: the
// rig's DB1, DB2 and DB3 as plain memory (a memory device, no rig logic that
// would rewrite status bits); resolves once it printed READY, with its port.
async function startSim() {
  const sim = await kit.startRingSim(plcgw, srcDir);
  return Object.assign(sim, { port: sim.s7 });
}

// A free TCP port on 127.0.0.1: bind port 0, read it, close.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// node-snap7's S7Server on a free port with DBs {number: size}.
async function startSnap7Server(dbs, forcePdu) {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const s = new snap7.S7Server();
    // node-snap7 1.0.9 delivers server events through a uv_async handle that
    // outlives a garbage-collected S7Server (abort in S7Server::HandleEvent,
    // uv_mutex_lock): no events, and every server object stays referenced
    s.SetEventMask(0);
    keepAlive.push(s);
    for (const [db, size] of Object.entries(dbs)) {
      const rc = s.RegisterArea(s.srvAreaDB, Number(db), Buffer.alloc(size));
      if (rc === false) throw new Error(`snap7 RegisterArea DB${db} failed`);
    }
    const port = await freePort();
    s.SetParam(s.LocalPort, port);
    if (forcePdu) s.SetParam(s.PDURequest, forcePdu);
    if (s.StartTo('127.0.0.1')) {
      const srv = { s, port };
      servers.add(srv);
      return srv;
    }
    // the port was taken between freePort and StartTo: try another
  }
  throw new Error('node-snap7 S7Server did not start on any of 3 free ports');
}

function stopSnap7Server(srv) {
  if (!srv) return;
  srv.s.Stop();
  servers.delete(srv);
}

// nodes7, promisified and bounded.
function n7Connect(port, extra) {
  const conn = new nodes7({ silent: true });
  const p = new Promise((resolve) => {
    conn.initiateConnection(Object.assign({ port, host: '127.0.0.1', rack: 0, slot: 1,
                                            timeout: 5000 }, extra || {}),
                            (err) => resolve(err));
  });
  return withTimeout(p, WAIT_MS, 'nodes7 connect').then((err) => ({ conn, err }));
}

function n7Write(conn, items, values) {
  const p = new Promise((resolve, reject) => {
    const busy = conn.writeItems(items, values, (bad) => resolve(bad));
    if (busy) reject(new Error(`nodes7 writeItems refused (${busy}): a write is in progress`));
  });
  return withTimeout(p, WAIT_MS, 'nodes7 writeItems');
}

function n7Read(conn) {
  const p = new Promise((resolve) => conn.readAllItems((bad, values) => resolve({ bad, values })));
  return withTimeout(p, WAIT_MS, 'nodes7 readAllItems');
}

function n7Drop(conn) {
  return withTimeout(new Promise((resolve) => conn.dropConnection(() => resolve())), WAIT_MS,
                     'nodes7 dropConnection').catch(() => {});
}

// ------------------------------------------------------------ tag maps

function writeMap(name, mapping) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify({ driver: 's7', mapping }, null, 1));
  return file;
}

function records(r) {
  try {
    const arr = JSON.parse(r.stdout);
    const byName = {};
    for (const rec of arr) byName[rec.parameter] = rec.value;
    return byName;
  } catch (e) {
    return null;
  }
}

const DB_ERR = '(object does not exist|address out of range)';

// ------------------------------------------------------------ a. snap7 client -> our server

async function caseSnap7ClientOurServer() {
  const sim = await startSim();
  const c = kit.snap7Client(snap7, sim.port);
  try {
    const conn = await call(c, 'ConnectTo', '127.0.0.1', 0, 1);
    if (!check('ConnectTo rack 0 slot 1', conn.err === 0, snapErr(c, conn))) return;
    check('Connected()', c.Connected() === true);
    // snap7 asks for 480; our server grants up to 960, so 480
    checkEq('PDU negotiated (PDURequested, PDULength)', [c.PDURequested(), c.PDULength()], [480, 480]);

    // DBWrite + DBRead of REALs: DB1 is 6 REALs (24 bytes)
    const reals = [12.5, -3.75, 0.1, 100000.5, 0, 42.25];
    const db1 = Buffer.alloc(24);
    reals.forEach((v, i) => db1.writeFloatBE(v, i * 4));
    let r = await call(c, 'DBWrite', 1, 0, 24, db1);
    check('DBWrite DB1 0..23 (6 REALs)', r.err === 0, snapErr(c, r));
    r = await call(c, 'DBRead', 1, 0, 24);
    if (check('DBRead DB1 0..23', r.err === 0, snapErr(c, r)))
      checkBytes('DB1 round trip of 6 REALs', r.data, db1);
    r = await call(c, 'DBRead', 1, 8, 4);
    check('DBRead DB1.DBD8 = 0.1f', r.err === 0 && r.data.readFloatBE(0) === Math.fround(0.1),
          r.err ? snapErr(c, r) : hex(r.data));

    // INTs at DB2.DBW20 and DB2.DBW22, REALs through WriteArea S7WLReal
    const ints = Buffer.alloc(4);
    ints.writeInt16BE(-1234, 0);
    ints.writeInt16BE(32767, 2);
    r = await call(c, 'DBWrite', 2, 20, 4, ints);
    check('DBWrite DB2.DBW20/22 INTs', r.err === 0, snapErr(c, r));
    const r2 = Buffer.alloc(8);
    r2.writeFloatBE(-0.5, 0);
    r2.writeFloatBE(3.0e8, 4);
    r = await call(c, 'WriteArea', c.S7AreaDB, 2, 0, 2, c.S7WLReal, r2);
    check('WriteArea DB2 0 2xS7WLReal', r.err === 0, snapErr(c, r));
    r = await call(c, 'ReadArea', c.S7AreaDB, 2, 0, 2, c.S7WLReal);
    if (check('ReadArea DB2 0 2xS7WLReal', r.err === 0, snapErr(c, r)))
      checkBytes('REALs via WriteArea/ReadArea', r.data, r2);
    r = await call(c, 'ReadArea', c.S7AreaDB, 2, 20, 2, c.S7WLWord);
    if (check('ReadArea DB2 20 2xS7WLWord', r.err === 0, snapErr(c, r)))
      checkEq('INTs read back', [r.data.readInt16BE(0), r.data.readInt16BE(2)], [-1234, 32767]);

    // whole DBs, exactly to their end
    r = await call(c, 'DBRead', 2, 0, 26);
    check('DBRead all of DB2 (26 bytes)', r.err === 0 && r.data.length === 26, snapErr(c, r));
    r = await call(c, 'DBRead', 3, 0, 10);
    check('DBRead all of DB3 (10 bytes)', r.err === 0 && r.data.length === 10, snapErr(c, r));

    // multi-var read: several items, one bad, in one request
    const db3 = Buffer.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA]);
    r = await call(c, 'DBWrite', 3, 0, 10, db3);
    check('DBWrite DB3 0..9', r.err === 0, snapErr(c, r));
    const mv = [
      { Area: c.S7AreaDB, WordLen: c.S7WLReal, DBNumber: 1, Start: 4, Amount: 1 },
      { Area: c.S7AreaDB, WordLen: c.S7WLWord, DBNumber: 2, Start: 20, Amount: 2 },
      { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 3, Start: 0, Amount: 3 },  // odd: fill byte
      { Area: c.S7AreaDB, WordLen: c.S7WLBit, DBNumber: 3, Start: 1 * 8 + 1, Amount: 1 },
      { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 9, Start: 0, Amount: 4 },  // no DB9
      { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 1, Start: 22, Amount: 4 }, // past the end
      { Area: c.S7AreaDB, WordLen: c.S7WLDWord, DBNumber: 1, Start: 0, Amount: 6 },
    ];
    r = await call(c, 'ReadMultiVars', mv);
    if (check('ReadMultiVars 7 items', r.err === 0 && Array.isArray(r.data) && r.data.length === 7,
              r.err ? snapErr(c, r) : r.data)) {
      const d = r.data;
      check('multi item 1 REAL DB1.DBD4 = -3.75', d[0].Result === 0 && d[0].Data.readFloatBE(0) === -3.75,
            d[0]);
      check('multi item 2 WORDs DB2.DBW20/22', d[1].Result === 0 && d[1].Data.readInt16BE(0) === -1234 &&
            d[1].Data.readInt16BE(2) === 32767, d[1]);
      check('multi item 3 3 bytes of DB3', d[2].Result === 0 && hex(d[2].Data) === '11 22 33', d[2]);
      // 0x22 = 0010 0010: bit 1 set
      check('multi item 4 bit DB3.DBX1.1 = 1', d[3].Result === 0 && hex(d[3].Data) === '01', d[3]);
      check('multi item 5 DB9 fails (item not available)', d[4].Result === c.errCliItemNotAvailable,
            `Result 0x${(d[4].Result >>> 0).toString(16)} ${c.ErrorText(d[4].Result)}`);
      check('multi item 6 past DB1 end fails (address out of range)',
            d[5].Result === c.errCliAddressOutOfRange,
            `Result 0x${(d[5].Result >>> 0).toString(16)} ${c.ErrorText(d[5].Result)}`);
      check('multi item 7 DB1 as 6 DWORDs after the failed ones', d[6].Result === 0 &&
            d[6].Data && Buffer.compare(d[6].Data, db1) === 0, d[6]);
    }

    // multi-var write
    const w1 = Buffer.alloc(4);
    w1.writeFloatBE(7.75, 0);
    r = await call(c, 'WriteMultiVars', [
      { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 1, Start: 20, Amount: 4, Data: w1 },
      { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 3, Start: 5, Amount: 3, Data: Buffer.from([1, 2, 3]) },
      { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 2, Start: 24, Amount: 2, Data: Buffer.from([0xBE, 0xEF]) },
    ]);
    check('WriteMultiVars 3 items', r.err === 0 && Array.isArray(r.data) &&
          r.data.every((x) => x.Result === 0), r.err ? snapErr(c, r) : r.data);
    r = await call(c, 'DBRead', 3, 0, 10);
    if (r.err === 0) checkBytes('DB3 after WriteMultiVars', r.data,
                                [0x11, 0x22, 0x33, 0x44, 0x55, 1, 2, 3, 0x99, 0xAA]);
    r = await call(c, 'DBRead', 2, 24, 2);
    if (r.err === 0) checkBytes('DB2.DBW24 after WriteMultiVars', r.data, [0xBE, 0xEF]);

    // single-bit writes change only their bit
    r = await call(c, 'DBWrite', 3, 1, 1, Buffer.from([0xA5]));
    check('DBWrite DB3.DBB1 = 0xA5', r.err === 0, snapErr(c, r));
    r = await call(c, 'WriteArea', c.S7AreaDB, 3, 1 * 8 + 1, 1, c.S7WLBit, Buffer.from([1]));
    check('WriteArea S7WLBit DB3.DBX1.1 := 1', r.err === 0, snapErr(c, r));
    r = await call(c, 'DBRead', 3, 0, 3);
    if (r.err === 0) checkBytes('DB3 bytes 0..2 after setting bit 1.1 (0xA5 -> 0xA7)', r.data,
                                [0x11, 0xA7, 0x33]);
    r = await call(c, 'WriteArea', c.S7AreaDB, 3, 1 * 8 + 7, 1, c.S7WLBit, Buffer.from([0]));
    check('WriteArea S7WLBit DB3.DBX1.7 := 0', r.err === 0, snapErr(c, r));
    r = await call(c, 'DBRead', 3, 0, 3);
    if (r.err === 0) checkBytes('DB3 bytes 0..2 after clearing bit 1.7 (0xA7 -> 0x27)', r.data,
                                [0x11, 0x27, 0x33]);
    r = await call(c, 'ReadArea', c.S7AreaDB, 3, 1 * 8 + 2, 1, c.S7WLBit);
    check('ReadArea S7WLBit DB3.DBX1.2 = 1', r.err === 0 && hex(r.data) === '01',
          r.err ? snapErr(c, r) : hex(r.data));
    r = await call(c, 'ReadArea', c.S7AreaDB, 3, 1 * 8 + 3, 1, c.S7WLBit);
    check('ReadArea S7WLBit DB3.DBX1.3 = 0', r.err === 0 && hex(r.data) === '00',
          r.err ? snapErr(c, r) : hex(r.data));

    // CPU state and identification (SZL 0x0424, 0x0011)
    r = await call(c, 'PlcStatus');
    check('PlcStatus() is RUN (0x08)', r.err === 0 && r.data === c.S7CpuStatusRun && r.data === 0x08,
          r.err ? snapErr(c, r) : r.data);
    r = await call(c, 'GetOrderCode');
    if (check('GetOrderCode answers', r.err === 0 && r.data, snapErr(c, r))) {
      checkEq('order code and firmware', [r.data.Code.trim(), r.data.V1, r.data.V2, r.data.V3],
              ['6ES7 214-1AG40-0XB0', 4, 2, 1]);
    }
    // GetCpuInfo reads SZL 0x001C: it must answer it (or refuse it
    // cleanly) and keep the connection
    r = await call(c, 'GetCpuInfo');
    if (r.err === 0) {
      check('GetCpuInfo answers', r.data && typeof r.data === 'object', r.data);
    } else {
      console.log(`note: GetCpuInfo (SZL 0x001C) refused: ${snapErr(c, r)}`);
      check('GetCpuInfo refused as "item not available"', r.err === c.errCliItemNotAvailable,
            snapErr(c, r));
    }
    r = await call(c, 'ReadSZL', 0x0011, 0x0000);
    // snap7 returns LENTHDR and N_DR (host order) and the records
    check('ReadSZL 0x0011 answers 3 records of 28 bytes', r.err === 0 && r.data &&
          r.data.length === 4 + 3 * 28 && r.data.readUInt16LE(0) === 28 && r.data.readUInt16LE(2) === 3,
          r.err ? snapErr(c, r) : hex(r.data));

    // system state lists (docs/s7comm.md 11.5-11.7); snap7 hands back
    // LENTHDR and N_DR in host order, then the records as sent
    r = await call(c, 'ReadSZL', 0x0000, 0x0000);
    if (check('ReadSZL 0x0000 (list of lists) answers 2-byte records', r.err === 0 && r.data &&
              r.data.readUInt16LE(0) === 2 && r.data.length === 4 + 2 * r.data.readUInt16LE(2),
              r.err ? snapErr(c, r) : hex(r.data))) {
      const ids = [];
      for (let k = 0; k < r.data.readUInt16LE(2); k++) ids.push(r.data.readUInt16BE(4 + 2 * k));
      checkEq('SZL-IDs listed', ids, [0x0000, 0x0011, 0x001C, 0x0074, 0x00A0, 0x0111, 0x011C, 0x0131,
                                      0x0174, 0x01A0, 0x0232, 0x0424, 0x0F00, 0x0F11, 0x0F1C,
                                      0x0F74, 0x0FA0]);
    }
    r = await call(c, 'ReadSZL', 0x0131, 0x0001);
    if (check('ReadSZL 0x0131 index 1 answers one 40-byte record', r.err === 0 && r.data &&
              r.data.length === 4 + 40 && r.data.readUInt16LE(0) === 40 &&
              r.data.readUInt16LE(2) === 1, r.err ? snapErr(c, r) : hex(r.data))) {
      const pdu = r.data.readUInt16BE(4 + 2), conns = r.data.readUInt16BE(4 + 4);
      check('0x0131: index 1, max PDU >= the negotiated PDU, connections > 0',
            r.data.readUInt16BE(4) === 1 && pdu >= c.PDULength() && pdu <= 960 && conns > 0,
            `index ${r.data.readUInt16BE(4)} pdu ${pdu} (negotiated ${c.PDULength()}) conns ${conns}`);
    }
    r = await call(c, 'ReadSZL', 0x0131, 0x0009);
    check('ReadSZL 0x0131 index 9 (not defined) refused, connection kept', r.err !== 0,
          snapErr(c, r));
    r = await call(c, 'ReadSZL', 0x0232, 0x0004);
    if (check('ReadSZL 0x0232 index 4 answers one 40-byte record', r.err === 0 && r.data &&
              r.data.length === 4 + 40 && r.data.readUInt16LE(0) === 40 &&
              r.data.readUInt16LE(2) === 1, r.err ? snapErr(c, r) : hex(r.data))) {
      const f = [0, 2, 4, 6, 8].map((o) => r.data.readUInt16BE(4 + o));
      checkEq('0x0232 index 4: index, key, param (no password), real (level 1), RUN_P', f,
              [4, 1, 0, 1, 2]);
    }
    r = await call(c, 'ReadSZL', 0x0011, 0x0000);
    check('ReadSZL 0x0011 still answers after the refusal', r.err === 0 && r.data &&
          r.data.length === 4 + 3 * 28, r.err ? snapErr(c, r) : hex(r.data));

    // timers and counters (docs/s7comm.md 15): the address is the timer
    // or counter number, two bytes each (timer 5 is the second of 4..6)
    r = await call(c, 'TMWrite', 5, 2, Buffer.from([0x21, 0x23, 0x00, 0x45]));
    check('TMWrite T5..T6', r.err === 0, snapErr(c, r));
    r = await call(c, 'TMRead', 4, 3);
    checkBytes('TMRead T4..T6 reads T5 and T6 where they were written', r.data,
               [0x00, 0x00, 0x21, 0x23, 0x00, 0x45]);
    r = await call(c, 'CTWrite', 255, 1, Buffer.from([0x09, 0x99]));
    check('CTWrite C255 (the last of 256)', r.err === 0, snapErr(c, r));
    r = await call(c, 'CTRead', 254, 2);
    checkBytes('CTRead C254..C255', r.data, [0x00, 0x00, 0x09, 0x99]);
    r = await call(c, 'TMRead', 5, 1);
    checkBytes('timers and counters are separate areas (T5 unchanged)', r.data, [0x21, 0x23]);
    r = await call(c, 'CTRead', 256, 1);
    check('CTRead C256 (past the last counter) fails: address out of range',
          r.err === c.errCliAddressOutOfRange, snapErr(c, r));

    // errors: no DB9, reads past the end of a DB, writes too
    r = await call(c, 'DBRead', 9, 0, 4);
    check('DBRead DB9 (no such DB) fails: item not available', r.err === c.errCliItemNotAvailable,
          snapErr(c, r));
    r = await call(c, 'DBRead', 1, 20, 8);
    check('DBRead DB1 20..27 (24-byte DB) fails: address out of range',
          r.err === c.errCliAddressOutOfRange, snapErr(c, r));
    r = await call(c, 'DBRead', 3, 10, 1);
    check('DBRead DB3.DBB10 (first byte after the end) fails', r.err !== 0, snapErr(c, r));
    r = await call(c, 'DBWrite', 2, 24, 4, Buffer.alloc(4));
    check('DBWrite DB2 24..27 (26-byte DB) fails', r.err !== 0, snapErr(c, r));
    r = await call(c, 'DBWrite', 9, 0, 2, Buffer.alloc(2));
    check('DBWrite DB9 fails', r.err !== 0, snapErr(c, r));
    r = await call(c, 'DBRead', 2, 24, 2);
    check('a failed write changed nothing (DB2.DBW24 still BEEF)', r.err === 0 &&
          hex(r.data) === 'be ef', r.err ? snapErr(c, r) : hex(r.data));
    // services our server does not offer: refused, and the connection stays
    // block functions are served (docs/s7comm.md 14; s7_blocks.js), PlcStop
    // and the clock too (s7_cpu.js)
    r = await call(c, 'ListBlocks');
    check('ListBlocks: the 3 DBs', r.err === 0 && r.data.DBCount === 3, snapErr(c, r));
    r = await call(c, 'ReadArea', c.S7AreaMK, 0, 0, 4, c.S7WLByte);
    check('MB0..3 (no M area in the ringstiff sim) refused', r.err === c.errCliItemNotAvailable, snapErr(c, r));
    check('still connected after the refused requests', c.Connected() === true);
    r = await call(c, 'DBRead', 1, 0, 4);
    check('and it still reads', r.err === 0 && r.data.readFloatBE(0) === 12.5, snapErr(c, r));

    // what snap7 wrote, our own client reads back through the ringstiff map
    const rd = await runPlcgw(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--config',
                               path.join(srcDir, 'config/s7/ringstiff.json'), '--json']);
    const recs = records(rd);
    if (check('plcgw read of the ringstiff map after snap7 writes', rd.status === 0 && recs,
              describeRun(rd))) {
      check('Pipe_Diameter (DB1.DBD0) = 12.5 as written by snap7', recs.Pipe_Diameter === 12.5, recs);
      check('Deflection_Percent (DB1.DBD8) = 0.1f', near(recs.Deflection_Percent, 0.1), recs);
      check('Max_Force (DB1.DBD20) = 7.75', recs.Max_Force === 7.75, recs);
      check('SN_Class (DB2.DBW20) = -1234', recs.SN_Class === -1234, recs);
      check('Lock_Upper (DB3.DBX1.3) = false, Home (DB3.DBX0.5) = false',
            recs.Lock_Upper === false && recs.Home === false, recs);
    }
  } finally {
    try { c.Disconnect(); } catch (e) { /* already gone */ }
    await stopSim(sim);
  }
}

// ------------------------------------------------------------ b. nodes7 -> our server

async function caseNodes7OurServer() {
  const sim = await startSim();
  let conn;
  try {
    const c = await n7Connect(sim.port);
    conn = c.conn;
    if (!check('nodes7 connects (COTP CC >= 22 bytes, setup communication)', c.err === undefined,
               String(c.err))) return;
    const tags = {
      R0: 'DB1,REAL0', R4: 'DB1,REAL4', R20: 'DB1,REAL20', I20: 'DB2,INT20', I22: 'DB2,INT22',
      D0: 'DB2,DINT0', W4: 'DB2,WORD4', B1: 'DB3,B1', X10: 'DB3,X1.0', X11: 'DB3,X1.1',
      X16: 'DB3,X1.6', X17: 'DB3,X1.7', X240: 'DB2,X24.0', BA: 'DB1,B8.4', R2: 'DB3,REAL2',
    };
    conn.setTranslationCB((t) => tags[t]);
    let bad = await n7Write(conn, ['B1', 'BA'], [0xA5, [1, 2, 3, 4]]);
    check('nodes7 write of a byte and a byte array', bad === false);
    bad = await n7Write(conn, ['R0', 'R4', 'R20', 'I20', 'I22', 'D0', 'W4', 'R2'],
                        [1.5, -2.25, 1234.5, -1234, 3, -100000, 0xBEEF, 0.25]);
    check('nodes7 write of 8 REAL/INT/DINT/WORD items in one go', bad === false);
    bad = await n7Write(conn, ['X11', 'X17', 'X240'], [true, false, true]);
    check('nodes7 write of 3 bits', bad === false);

    conn.addItems(Object.keys(tags));
    const rd = await n7Read(conn);
    check('nodes7 readAllItems of 15 items: no bad quality', rd.bad === false, rd.values);
    const v = rd.values;
    checkEq('nodes7 values', [v.R0, v.R4, v.R20, v.I20, v.I22, v.D0, v.W4, v.B1, v.X10, v.X11,
                              v.X16, v.X17, v.X240, v.BA, v.R2],
            [1.5, -2.25, 1234.5, -1234, 3, -100000, 0xBEEF, 0x27, true, true, false, false, true,
             [1, 2, 3, 4], 0.25]);
    // 0xA5 = 1010 0101; X1.1 := 1, X1.7 := 0 -> 0010 0111
    check('bit writes kept the rest of DB3.DBB1 (0xA5 -> 0x27)', v.B1 === 0x27, v);
    await n7Drop(conn);
    conn = undefined;

    // again without nodes7's merging: 15 separate items in one request
    const c2 = await n7Connect(sim.port, { doNotOptimize: true });
    conn = c2.conn;
    if (check('nodes7 (doNotOptimize) connects', c2.err === undefined, String(c2.err))) {
      conn.setTranslationCB((t) => tags[t]);
      conn.addItems(Object.keys(tags));
      const rd2 = await n7Read(conn);
      check('nodes7 readAllItems of 15 separate items: no bad quality', rd2.bad === false, rd2.values);
      checkEq('nodes7 separate items give the same values', rd2.values, rd.values);
    }
    await n7Drop(conn);
    conn = undefined;

    // our client sees what nodes7 wrote
    const r = await runPlcgw(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--config',
                              path.join(srcDir, 'config/s7/ringstiff.json'), '--json']);
    const recs = records(r);
    if (check('plcgw read after nodes7 writes', r.status === 0 && recs, describeRun(r))) {
      checkEq('ringstiff values written by nodes7',
              [recs.Pipe_Diameter, recs.Pipe_Length, recs.Max_Force, recs.SN_Class, recs.Jog_Velocity,
               recs.Test_Passed, recs.Jog_Forward, recs.Lock_Upper],
              [1.5, -2.25, 1234.5, -1234, 0.25, true, false, false]);
    }
  } finally {
    if (conn) await n7Drop(conn);
    await stopSim(sim);
  }
}

// ------------------------------------------------------------ c. our client -> snap7 server

async function caseOurClientSnap7Server() {
  const srv = await startSnap7Server({ 1: 32, 2: 16, 3: 4, 10: 8 });
  const { s, port } = srv;
  const get = (db) => s.GetArea(s.srvAreaDB, db);
  const set = (db, buf) => s.SetArea(s.srvAreaDB, db, buf);
  const base = ['--host', '127.0.0.1', '--port', String(port)];
  try {
    const map = writeMap('c.json', {
      'DB1.DBD0': { parameter: 'a', function: 'real', access: 'rw' },
      'DB1.DBW4': { parameter: 'b', function: 'int', access: 'rw' },
      'DB1.DBD6': { parameter: 'c', function: 'dint', access: 'rw' },
      'DB1.DBB10': { parameter: 'd', function: 'byte', access: 'rw' },
      'DB1.DBW12': { parameter: 'e', function: 'word', access: 'rw' },
      'DB1.DBD14': { parameter: 'f', function: 'dword', access: 'rw' },
      'DB2.DBD0': { parameter: 'g', function: 'real', access: 'rw' },
      'DB2.DBX4.1': { parameter: 'h', function: 'bool', access: 'rw' },
      'DB2.DBX4.6': { parameter: 'i', function: 'bool', access: 'rw' },
      'DB3.DBW2': { parameter: 'j', function: 'int', access: 'rw' },
    });

    // plcgw write -> snap7's memory
    let r = await runPlcgw(['write', ...base, '--config', map, '--payload',
                            JSON.stringify({ a: 7.5, b: -3, c: 123456, d: 200, e: 0xBEEF,
                                             f: 4000000000, g: -0.125, h: true, i: false, j: 321 })]);
    check('plcgw write of 10 values to the snap7 server', r.status === 0, describeRun(r));
    checkBytes('snap7 DB1 after the write', get(1), Buffer.from(
      '40f00000' + 'fffd' + '0001e240' + 'c8' + '00' + 'beef' + 'ee6b2800' + '00'.repeat(14), 'hex'));
    checkBytes('snap7 DB2 after the write', get(2), Buffer.from('be000000' + '02' + '00'.repeat(11), 'hex'));
    checkBytes('snap7 DB3 after the write', get(3), Buffer.from('00000141', 'hex'));

    // bit writes change only their bit (neighbour bytes set too)
    set(2, Buffer.from('be0000' + '5aa53c' + '00'.repeat(10), 'hex'));
    r = await runPlcgw(['write', ...base, '--config', map, '--payload', '{"h": true}']);
    check('plcgw write of one bit (h := true)', r.status === 0, describeRun(r));
    checkBytes('DB2 bytes 3..5 after h := true (0xA5 -> 0xA7)', get(2).subarray(3, 6), [0x5a, 0xa7, 0x3c]);
    r = await runPlcgw(['write', ...base, '--config', map, '--payload', '{"i": true}']);
    checkBytes('DB2 bytes 3..5 after i := true (0xA7 -> 0xE7)', get(2).subarray(3, 6), [0x5a, 0xe7, 0x3c]);
    r = await runPlcgw(['write', ...base, '--config', map, '--payload', '{"h": false, "i": false}']);
    check('plcgw write of two bits of one byte', r.status === 0, describeRun(r));
    checkBytes('DB2 bytes 3..5 after h, i := false (0xE7 -> 0xA5)', get(2).subarray(3, 6), [0x5a, 0xa5, 0x3c]);

    // snap7's memory -> plcgw read --json
    const b1 = Buffer.alloc(32);
    b1.writeFloatBE(-1234.5, 0);
    b1.writeInt16BE(-32768, 4);
    b1.writeInt32BE(-2147483648, 6);
    b1[10] = 0x7f;
    b1.writeUInt16BE(65535, 12);
    b1.writeUInt32BE(0xFFFFFFFF, 14);
    set(1, b1);
    const b2 = Buffer.alloc(16);
    b2.writeFloatBE(0.1, 0);
    b2[4] = 0x40; // h (bit 1) false, i (bit 6) true
    set(2, b2);
    set(3, Buffer.from([0, 0, 0x7f, 0xff]));
    r = await runPlcgw(['read', ...base, '--config', map, '--json']);
    const recs = records(r);
    if (check('plcgw read --json from the snap7 server', r.status === 0 && recs, describeRun(r))) {
      checkEq('values read', [recs.a, recs.b, recs.c, recs.d, recs.e, recs.f, recs.h, recs.i, recs.j],
              [-1234.5, -32768, -2147483648, 127, 65535, 4294967295, false, true, 32767]);
      check('real g = 0.1f', near(recs.g, 0.1), recs);
    }

    // a tag in a DB the server does not have: that tag fails, the others print
    const missLast = writeMap('c_missing_last.json', {
      'DB1.DBD0': { parameter: 'a', function: 'real', access: 'rw' },
      'DB2.DBX4.6': { parameter: 'i', function: 'bool', access: 'rw' },
      'DB7.DBW0': { parameter: 'nodb', function: 'int', access: 'rw' },
    });
    const missMid = writeMap('c_missing_mid.json', {
      'DB1.DBD0': { parameter: 'a', function: 'real', access: 'rw' },
      'DB7.DBW0': { parameter: 'nodb', function: 'int', access: 'rw' },
      'DB10.DBW2': { parameter: 'k', function: 'int', access: 'rw' },
      'DB3.DBD2': { parameter: 'pastend', function: 'dint', access: 'rw' },
    });
    set(10, Buffer.from('0000abcd00000000', 'hex'));
    for (const [label, file, want] of [
      ['unregistered DB7 as the last item', missLast, { a: -1234.5, i: true }],
      ['unregistered DB7 between DB3 and DB10, and DB3.DBD2 past the 4-byte DB3', missMid,
       { a: -1234.5, k: -21555 }],
    ]) {
      r = await runPlcgw(['read', ...base, '--config', file, '--json']);
      const { mapping } = JSON.parse(fs.readFileSync(file, 'utf8'));
      const bad = Object.entries(mapping).map(([k, t]) => [k, t.parameter])
        .filter(([k]) => k.startsWith('DB7') || k === 'DB3.DBD2');
      check(`${label}: exit status 1`, r.status === 1, describeRun(r));
      for (const [key, name] of bad)
        check(`${label}: stderr names tag ${name} (${key}) and why`,
              new RegExp(`${name} \\(${key.replace(/\./g, '\\.')}\\): ${DB_ERR}`).test(r.stderr),
              describeRun(r));
      const rr = records(r);
      check(`${label}: the other tags are printed with their values`, rr &&
            Object.entries(want).every(([k, v]) => rr[k] === v) &&
            Object.keys(rr).length === Object.keys(want).length, describeRun(r));
    }

    // a write with one tag in a missing DB: that tag fails, the other is written
    r = await runPlcgw(['write', ...base, '--config', missLast, '--payload', '{"a": 2.5, "nodb": 5}']);
    check('write with a tag in unregistered DB7: exit status 1', r.status === 1, describeRun(r));
    check('write: stderr names tag nodb (DB7.DBW0)', /nodb \(DB7\.DBW0\): object does not exist/.test(r.stderr),
          describeRun(r));
    check('write: the good tag was still written (DB1.DBD0 = 2.5)', get(1).readFloatBE(0) === 2.5,
          hex(get(1).subarray(0, 4)));
  } finally {
    stopSnap7Server(srv);
  }
}

// ------------------------------------------------------------ d. many items

// N tags spread over DBs, 4 per DB at offsets 0, 24, 48, 72 (gaps > 16
// bytes: the plan cannot merge them), types cycling int, real, byte, bool.
function manyTags(n, firstDb) {
  const mapping = {};
  const want = {};
  const fill = {};
  for (let i = 0; i < n; i++) {
    const db = firstDb + Math.floor(i / 4);
    const off = (i % 4) * 24;
    const name = `t${i}`;
    fill[db] = fill[db] || Buffer.alloc(80);
    switch (i % 4) {
      case 0:
        mapping[`DB${db}.DBW${off}`] = { parameter: name, function: 'int', access: 'rw' };
        want[name] = -(i * 100 + 7);
        fill[db].writeInt16BE(want[name], off);
        break;
      case 1:
        mapping[`DB${db}.DBD${off}`] = { parameter: name, function: 'real', access: 'rw' };
        want[name] = i + 0.5;
        fill[db].writeFloatBE(want[name], off);
        break;
      case 2:
        mapping[`DB${db}.DBB${off}`] = { parameter: name, function: 'byte', access: 'rw' };
        want[name] = (i * 7) % 256;
        fill[db][off] = want[name];
        break;
      default:
        mapping[`DB${db}.DBX${off}.${i % 8}`] = { parameter: name, function: 'bool', access: 'rw' };
        want[name] = (i % 3) !== 0;
        // the tag's bit alone when true, every other bit when false
        fill[db][off] = want[name] ? 1 << (i % 8) : 0xFF & ~(1 << (i % 8));
        break;
    }
  }
  return { mapping, want, fill };
}

// Checks `plcgw read --plan` and `--json --debug` for a map of n ranges.
// `limit` is the items one request may carry: 20 (snap7's limit), or 19
// at PDU 240 (10 + 2 + 12 * 19 = 240).
async function checkManyRead(label, base, file, n, want, failing, pdu = 960, limit = 20) {
  const requests = Math.ceil(n / limit);
  let r = await runPlcgw(['read', ...base, '--config', file, '--plan']);
  check(`${label}: --plan exit 0`, r.status === 0, describeRun(r));
  const head = /PDU (\d+) bytes: (\d+) requests? for (\d+) ranges?/.exec(r.stdout);
  check(`${label}: --plan says PDU ${pdu}, ${requests} request(s) for ${n} ranges`, head &&
        Number(head[1]) === pdu && Number(head[2]) === requests && Number(head[3]) === n,
        describeRun(r));
  const per = [...r.stdout.matchAll(/request \d+: (\d+) items?/g)].map((m) => Number(m[1]));
  check(`${label}: --plan has at most ${limit} items per request, ${n} in all (nothing merged)`,
        per.length === requests && per.every((k) => k <= limit) && per.reduce((a, b) => a + b, 0) === n,
        r.stdout);

  r = await runPlcgw(['read', ...base, '--config', file, '--json', '--debug']);
  const trips = /(\d+) round trips?, PDU (\d+)/.exec(r.stderr);
  // connect (setup communication) is one round trip, then one per request
  check(`${label}: --debug prints ${requests + 1} round trips (setup + ${requests} reads), PDU ${pdu}`,
        trips && Number(trips[1]) === requests + 1 && Number(trips[2]) === pdu, describeRun(r));
  check(`${label}: exit status ${failing.length ? 1 : 0}`, r.status === (failing.length ? 1 : 0),
        describeRun(r));
  const recs = records(r);
  const wrong = [];
  if (recs) {
    for (const [k, v] of Object.entries(want))
      if (!(k in recs) || (typeof v === 'number' && !Number.isInteger(v) ? !near(recs[k], v) : recs[k] !== v))
        wrong.push(`${k}: got ${JSON.stringify(recs[k])}, want ${JSON.stringify(v)}`);
    if (Object.keys(recs).length !== Object.keys(want).length)
      wrong.push(`${Object.keys(recs).length} records printed, ${Object.keys(want).length} expected`);
  }
  check(`${label}: all ${Object.keys(want).length} values correct`, recs && wrong.length === 0,
        recs ? wrong.join('\n') : describeRun(r));
  if (failing.length) {
    const missing = failing.filter((name) => !new RegExp(`: ${name} \\(DB\\d+\\.DBW0\\): object does not exist`)
      .test(r.stderr));
    check(`${label}: each of the ${failing.length} tags in absent DBs is reported`, missing.length === 0,
          `not reported: ${missing.slice(0, 10).join(', ')}\n${r.stderr.slice(0, 800)}`);
  }
}

async function caseManyItems() {
  // against node-snap7's server: 25 DBs of 80 bytes
  const dbs = {};
  for (let d = 1; d <= 25; d++) dbs[d] = 80;
  const srv = await startSnap7Server(Object.assign({ 30: 2000, 31: 300 }, dbs));
  try {
    const all = manyTags(100, 1);
    for (const [db, buf] of Object.entries(all.fill)) srv.s.SetArea(srv.s.srvAreaDB, Number(db), buf);
    const base = ['--host', '127.0.0.1', '--port', String(srv.port)];
    for (const n of [19, 20, 21, 100]) {
      const t = manyTags(n, 1);
      const file = writeMap(`many_snap7_${n}.json`, t.mapping);
      await checkManyRead(`snap7 server, ${n} tags`, base, file, n, t.want, []);
    }

    // long spans: 400 adjacent DINTs (1600 bytes) and a string[200] merge
    // into spans that are cut at the PDU (942 bytes per item at PDU 960);
    // the write goes out in requests of at most 20 items
    const mapping = {};
    const payload = {};
    for (let i = 0; i < 400; i++) {
      mapping[`DB30.DBD${i * 4}`] = { parameter: `v${i}`, function: 'dint', access: 'rw' };
      payload[`v${i}`] = i * 1000003 - 7;
    }
    mapping['DB31.DBB0'] = { parameter: 'str', function: 'string[200]', access: 'rw' };
    payload.str = 'hello S7 '.repeat(22);
    const file = writeMap('long_spans.json', mapping);
    let r = await runPlcgw(['write', ...base, '--config', file, '--payload', JSON.stringify(payload),
                            '--debug']);
    check('401 values written in 21 requests of <= 20 items', r.status === 0 &&
          /wrote 401 values in 21 round trips/.test(r.stderr), describeRun(r));
    const db30 = srv.s.GetArea(srv.s.srvAreaDB, 30);
    const wrong = [];
    for (let i = 0; i < 400; i++)
      if (db30.readInt32BE(i * 4) !== payload[`v${i}`]) wrong.push(`DB30.DBD${i * 4}`);
    check('all 400 DINTs arrived in the snap7 server', wrong.length === 0, wrong.slice(0, 10).join(' '));
    const db31 = srv.s.GetArea(srv.s.srvAreaDB, 31);
    check('string[200] arrived as S7 STRING (max 200, length 198)', db31[0] === 200 && db31[1] === 198 &&
          db31.subarray(2, 200).toString('latin1') === payload.str, hex(db31.subarray(0, 16)));
    r = await runPlcgw(['read', ...base, '--config', file, '--plan']);
    check('--plan cuts the 1600-byte span at 942 bytes: 2 requests, replies within PDU 960',
          r.status === 0 && /2 requests for 401 ranges/.test(r.stdout) &&
          /DB30\.DBB0, 942 bytes/.test(r.stdout) && /DB30\.DBB942, 658 bytes/.test(r.stdout) &&
          [...r.stdout.matchAll(/reply (\d+) bytes/g)].every((m) => Number(m[1]) <= 960), describeRun(r));
    r = await runPlcgw(['read', ...base, '--config', file, '--json']);
    const recs = records(r);
    check('the long spans read back', r.status === 0 && recs &&
          Object.entries(payload).every(([k, v]) => recs[k] === v), describeRun(r));
  } finally {
    stopSnap7Server(srv);
  }

  // node-snap7's server forced to PDU 240 (an S7-1200's): 19 items per request
  const small = await startSnap7Server(dbs, 240);
  try {
    const all = manyTags(100, 1);
    for (const [db, buf] of Object.entries(all.fill)) small.s.SetArea(small.s.srvAreaDB, Number(db), buf);
    const base = ['--host', '127.0.0.1', '--port', String(small.port)];
    for (const n of [19, 20, 21, 100]) {
      const t = manyTags(n, 1);
      const file = writeMap(`many_snap7_240_${n}.json`, t.mapping);
      await checkManyRead(`snap7 server at PDU 240, ${n} tags`, base, file, n, t.want, [], 240, 19);
    }
  } finally {
    stopSnap7Server(small);
  }

  // against our server: the ringstiff sim has only DB1 (24 bytes), DB2 (26)
  // and DB3 (10), room for 5 unmergeable tags; the others sit in absent DBs
  // and must fail one by one while the 5 keep their values
  const sim = await startSim();
  try {
    const base = ['--host', '127.0.0.1', '--port', String(sim.port)];
    const real = {
      'DB1.DBB0': { parameter: 'r0', function: 'byte', access: 'rw' },
      'DB1.DBD18': { parameter: 'r1', function: 'real', access: 'rw' },
      'DB2.DBB0': { parameter: 'r2', function: 'byte', access: 'rw' },
      'DB2.DBW20': { parameter: 'r3', function: 'int', access: 'rw' },
      'DB3.DBX9.5': { parameter: 'r4', function: 'bool', access: 'rw' },
    };
    const wantReal = { r0: 171, r1: -6.5, r2: 18, r3: -20000, r4: true };
    const wfile = writeMap('many_ours_write.json', real);
    const w = await runPlcgw(['write', ...base, '--config', wfile, '--payload', JSON.stringify(wantReal)]);
    check('our server: plcgw write of the 5 separate tags', w.status === 0, describeRun(w));
    for (const n of [19, 20, 21, 100]) {
      const mapping = Object.assign({}, real);
      const failing = [];
      for (let i = 5; i < n; i++) {
        mapping[`DB${100 + i}.DBW0`] = { parameter: `absent${i}`, function: 'int', access: 'rw' };
        failing.push(`absent${i}`);
      }
      const file = writeMap(`many_ours_${n}.json`, mapping);
      await checkManyRead(`our server, ${n} tags (${n - 5} in absent DBs)`, base, file, n, wantReal, failing);
    }

    // node-snap7's client at its own limit: 20 items in one ReadMultiVars
    const c = kit.snap7Client(snap7, sim.port);
    try {
      const conn = await call(c, 'ConnectTo', '127.0.0.1', 0, 1);
      if (check('snap7 client connects for the 20-item read', conn.err === 0, snapErr(c, conn))) {
        const pattern = Buffer.from([...Array(24).keys()].map((k) => 0x30 + k));
        await call(c, 'DBWrite', 1, 0, 24, pattern);
        const items = [];
        for (let k = 0; k < 20; k++)
          items.push({ Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 1, Start: k, Amount: 1 + (k % 3) });
        const r = await call(c, 'ReadMultiVars', items);
        const ok = r.err === 0 && r.data.length === 20 && r.data.every((d, k) =>
          d.Result === 0 && Buffer.compare(d.Data, pattern.subarray(k, k + 1 + (k % 3))) === 0);
        check('snap7 ReadMultiVars of 20 items (odd and even lengths) from our server', ok,
              r.err ? snapErr(c, r) : r.data.map((d) => `${d.Result}:${hex(d.Data)}`).join(' | '));
      }
    } finally {
      try { c.Disconnect(); } catch (e) { /* gone */ }
    }
  } finally {
    await stopSim(sim);
  }
}

// ------------------------------------------------------------ main

const cases = [
  ['a. node-snap7 client -> our server', caseSnap7ClientOurServer],
  ['b. nodes7 -> our server', caseNodes7OurServer],
  ['c. our client -> node-snap7 server', caseOurClientSnap7Server],
  ['d. many items, both servers', caseManyItems],
];

async function cleanup() {
  for (const srv of [...servers]) stopSnap7Server(srv);
  await kit.stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
}

const watchdog = setTimeout(async () => {
  console.log(`FAIL ${currentCase}: the file did not finish within ${FILE_MS / 1000} s`);
  fail++;
  await cleanup();
  console.log(`s7_peers: ${pass} passed, ${fail} failed`);
  process.exit(1);
}, FILE_MS);

(async () => {
  const t0 = Date.now();
  const only = process.env.S7_PEERS_CASES; // e.g. "a,c": run only these
  for (const [name, fn] of cases) {
    if (only && !only.split(',').includes(name[0])) continue;
    currentCase = name;
    const t = Date.now();
    const before = fail;
    try {
      // each case is bounded too, a little under the whole file's budget
      await withTimeout(fn(), 40000, name);
    } catch (e) {
      check('ran to the end', false, e.stack || String(e));
      await kit.stopAll();
    }
    console.log(`${fail === before ? 'ok  ' : 'FAIL'} ${name} (${Date.now() - t} ms)`);
  }
  clearTimeout(watchdog);
  await cleanup();
  console.log(`s7_peers: ${pass} passed, ${fail} failed (${Date.now() - t0} ms)`);
  process.exit(fail === 0 ? 0 : 1);
})();
