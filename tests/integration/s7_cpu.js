#!/usr/bin/env node
// s7_cpu.js PLCGW SOURCE_DIR - CPU control of the S7 simulator through
// node-snap7's client (docs/s7comm.md 16, 17): PlcStop, PlcStatus (snap7's GetPlcStatus),
// PlcHotStart, PlcColdStart with their "already" answers, DB reads and
// writes while stopped, the clock read, set and read back, the session
// password on a CPU that has none, and malformed stop/PI jobs over a raw
// socket. The password itself is tested with our client against a server
// that has one (tests/unit/s7/test_server_cpu.c): the simulator's config
// has no password yet.
'use strict';

const { startRingSim, loadSnap7, snap7Client, call, snapErr, rawConnect, stopAll } =
  require('./s7kit.js');
const { check, finish } = require('./gwtest.js');

const [plcgw, srcDir] = process.argv.slice(2);
if (!plcgw || !srcDir) {
  console.log('usage: s7_cpu.js PLCGW SOURCE_DIR');
  process.exit(2);
}

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

function ok(c, r, what) {
  expect(r.err === 0, `${what}: ${snapErr(c, r)}`);
  return r;
}

async function status(c) {
  const r = ok(c, await call(c, 'PlcStatus'), 'PlcStatus (GetPlcStatus)');
  return r.data;
}

// A stop or PI job over a raw socket; resolves {type, err, param}.
async function rawJob(raw, ref, param) {
  const p = Buffer.from(param);
  const hdr = Buffer.from([0x32, 1, 0, 0, ref >> 8, ref & 0xFF, p.length >> 8, p.length & 0xFF, 0, 0]);
  const a = await raw.exchange(Buffer.concat([hdr, p]));
  expect(a, 'the server closed the connection');
  expect(a.readUInt16BE(4) === ref, `answer to PDU ${a.readUInt16BE(4)}, not ${ref}`);
  const plen = a.readUInt16BE(6);
  return { type: a[1], err: a.readUInt16BE(10), param: a.subarray(12, 12 + plen) };
}

async function main() {
  const snap7 = loadSnap7(srcDir);
  const sim = await startRingSim(plcgw, srcDir);
  const c = snap7Client(snap7, sim.s7);
  try {
    await check('node-snap7 connects (rack 0, slot 1)', async () => {
      ok(c, await call(c, 'ConnectTo', '127.0.0.1', 0, 1), 'ConnectTo');
    });

    await check('RUN at start', async () => {
      expect((await status(c)) === c.S7CpuStatusRun, 'not RUN');
    });

    await check('PlcStop: the CPU reports STOP', async () => {
      ok(c, await call(c, 'PlcStop'), 'PlcStop');
      const st = await status(c);
      expect(st === c.S7CpuStatusStop, `status ${st}`);
    });

    await check('PlcStop again: "already stopped"', async () => {
      const r = await call(c, 'PlcStop');
      expect(r.err === c.errCliAlreadyStop, snapErr(c, r));
      return c.ErrorText(r.err);
    });

    await check('while stopped: DB reads and writes work', async () => {
      const r = ok(c, await call(c, 'DBRead', 1, 0, 4), 'DBRead DB1');
      expect(r.data.length === 4, 'DBRead length');
      ok(c, await call(c, 'DBWrite', 2, 24, 2, Buffer.from([0x12, 0x34])), 'DBWrite DB2.DBW24');
      const b = ok(c, await call(c, 'DBRead', 2, 24, 2), 'DBRead DB2.DBW24');
      expect(b.data.toString('hex') === '1234', `read back ${b.data.toString('hex')}`);
      expect((await status(c)) === c.S7CpuStatusStop, 'no longer STOP');
    });

    await check('PlcHotStart: RUN', async () => {
      ok(c, await call(c, 'PlcHotStart'), 'PlcHotStart');
      expect((await status(c)) === c.S7CpuStatusRun, 'not RUN');
    });

    await check('PlcHotStart and PlcColdStart again: "already running"', async () => {
      let r = await call(c, 'PlcHotStart');
      expect(r.err === c.errCliAlreadyRun, `hot: ${snapErr(c, r)}`);
      r = await call(c, 'PlcColdStart');
      expect(r.err === c.errCliAlreadyRun, `cold: ${snapErr(c, r)}`);
    });

    await check('PlcStop, PlcColdStart: RUN', async () => {
      ok(c, await call(c, 'PlcStop'), 'PlcStop');
      expect((await status(c)) === c.S7CpuStatusStop, 'not STOP');
      ok(c, await call(c, 'PlcColdStart'), 'PlcColdStart');
      expect((await status(c)) === c.S7CpuStatusRun, 'not RUN');
    });

    await check('GetPlcDateTime answers a date', async () => {
      const r = ok(c, await call(c, 'GetPlcDateTime'), 'GetPlcDateTime');
      expect(r.data instanceof Date && !Number.isNaN(r.data.getTime()), `got ${r.data}`);
      const y = r.data.getFullYear();
      expect(y >= 2020 && y < 2090, `year ${y}`);
      return r.data.toISOString();
    });

    await check('SetPlcDateTime, read back', async () => {
      const want = new Date(2031, 2, 4, 5, 6, 7); // node-snap7 converts in local time
      ok(c, await call(c, 'SetPlcDateTime', want), 'SetPlcDateTime');
      const r = ok(c, await call(c, 'GetPlcDateTime'), 'GetPlcDateTime');
      const diff = r.data.getTime() - want.getTime();
      expect(diff >= 0 && diff < 5000, `read back ${r.data} for ${want}`);
      return `${r.data.toString()}`;
    });

    await check('password on a CPU without one: "no password to set or clear"', async () => {
      let r = await call(c, 'SetSessionPassword', 'secret');
      expect(r.err === c.errCliNoPasswordToSetOrClear, `set: ${snapErr(c, r)}`);
      r = await call(c, 'ClearSessionPassword');
      expect(r.err === c.errCliNoPasswordToSetOrClear, `clear: ${snapErr(c, r)}`);
      expect(c.Connected(), 'disconnected');
    });

    await check('GetProtection: level 1, no password', async () => {
      const r = ok(c, await call(c, 'GetProtection'), 'GetProtection');
      expect(r.data.sch_par === 0 && r.data.sch_rel === 1, JSON.stringify(r.data));
      return JSON.stringify(r.data);
    });

    await check('malformed stop and PI jobs are answered, the connection kept', async () => {
      const raw = await rawConnect(sim.s7);
      try {
        const jobs = [
          [[0x28], 0x8404], [[0x29], 0x8404], [[0x28, 0, 0, 0, 0, 0, 0, 0], 0x8404],
          [[0x29, 0, 0, 0, 0, 0, 0x0A, ...Buffer.from('P_PROGRAM')], 0x8404],
          [[0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0, 0, 4, ...Buffer.from('_XYZ')], 0x8104],
          [[0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0, 1, 0x41, 9, ...Buffer.from('P_PROGRAM')], 0xD202],
        ];
        let ref = 0x100;
        for (const [p, want] of jobs) {
          const a = await rawJob(raw, ref++, p);
          expect(a.type === 3 && a.err === want && a.param[0] === p[0],
                 `job ${Buffer.from(p).toString('hex')}: type ${a.type} error ${a.err.toString(16)}`);
        }
      } finally {
        raw.close();
      }
      expect((await status(c)) === c.S7CpuStatusRun, 'mode changed');
    });
  } finally {
    c.Disconnect();
    await stopAll();
  }
  await passwordCase();
}

// A CPU protected by a password (plcgw sim --s7-password): node-snap7
// reads freely, is refused writes and control until SetSessionPassword,
// a wrong one is refused, GetProtection follows, ClearSessionPassword
// protects the session again.
async function passwordCase() {
  const sim = await startRingSim(plcgw, srcDir, '--s7-password', 'Pa55word');
  const c = snap7Client(loadSnap7(srcDir), sim.s7);
  try {
    ok(c, await call(c, 'ConnectTo', '127.0.0.1', 0, 1), 'ConnectTo');
    await check('protected: GetProtection level 2, reads work, writes and stop refused', async () => {
      const p = ok(c, await call(c, 'GetProtection'), 'GetProtection');
      expect(p.data.sch_par === 2 && p.data.sch_rel === 2, JSON.stringify(p.data));
      ok(c, await call(c, 'DBRead', 1, 0, 4), 'DBRead');
      let r = await call(c, 'DBWrite', 1, 0, 2, Buffer.from([1, 2]));
      expect(r.err !== 0, 'DBWrite answered');
      r = await call(c, 'PlcStop');
      expect(r.err !== 0, 'PlcStop answered');
      expect((await status(c)) === c.S7CpuStatusRun, 'stopped');
      return snapErr(c, r);
    });
    await check('a wrong password is refused', async () => {
      const r = await call(c, 'SetSessionPassword', 'wrong');
      expect(r.err !== 0, 'accepted');
      return snapErr(c, r);
    });
    await check('SetSessionPassword: writes and stop allowed, level 1 for this session', async () => {
      ok(c, await call(c, 'SetSessionPassword', 'Pa55word'), 'SetSessionPassword');
      const p = ok(c, await call(c, 'GetProtection'), 'GetProtection');
      expect(p.data.sch_par === 2 && p.data.sch_rel === 1, JSON.stringify(p.data));
      ok(c, await call(c, 'DBWrite', 1, 20, 2, Buffer.from([0x12, 0x34])), 'DBWrite');
      const rd = ok(c, await call(c, 'DBRead', 1, 20, 2), 'DBRead');
      expect(rd.data.equals(Buffer.from([0x12, 0x34])), rd.data.toString('hex'));
      ok(c, await call(c, 'PlcStop'), 'PlcStop');
      ok(c, await call(c, 'PlcHotStart'), 'PlcHotStart');
    });
    await check('ClearSessionPassword: protected again', async () => {
      ok(c, await call(c, 'ClearSessionPassword'), 'ClearSessionPassword');
      const r = await call(c, 'DBWrite', 1, 20, 2, Buffer.from([0, 0]));
      expect(r.err !== 0, 'DBWrite answered');
      const p = ok(c, await call(c, 'GetProtection'), 'GetProtection');
      expect(p.data.sch_rel === 2, JSON.stringify(p.data));
    });
  } finally {
    c.Disconnect();
    await stopAll();
  }
}

finish(main);
