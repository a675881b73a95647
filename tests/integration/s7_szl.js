#!/usr/bin/env node
// s7_szl.js PLCGW SOURCE_DIR - the simulator's system state lists
// (docs/s7comm.md 11) through node-snap7's client, our test peer: every
// served ID and index, the list of lists, the helpers built on SZL
// (GetCpuInfo, GetOrderCode, GetCpInfo, GetProtection, PlcStatus), the
// communication capabilities 0x0131 indexes 1-4 and 6 (docs 11.6), and at
// PDU 240 the lists longer than one PDU, which must arrive whole and equal
// to what a raw-frame reading assembles part by part (docs 11.8).
// Only 127.0.0.1; every wait bounded; the simulator stopped by its PID.
'use strict';

const { check, finish } = require('./gwtest');
const { startRingSim, loadSnap7, snap7Client, call, snapErr, rawConnect, stopAll } = require('./s7kit');

const [plcgw, srcDir] = process.argv.slice(2);

// every ID served, with an index that exists (docs 11.5)
const SERVED = [[0x0000, 0], [0x0011, 0], [0x001C, 0], [0x0074, 0], [0x00A0, 0], [0x0111, 1],
  [0x011C, 1], [0x0131, 1], [0x0174, 4], [0x01A0, 5], [0x0232, 1], [0x0424, 0], [0x0F00, 0],
  [0x0F11, 0], [0x0F1C, 0], [0x0F74, 0], [0x0FA0, 0]];
const MORE_INDEXES = [[0x0111, 6], [0x0111, 7], [0x011C, 2], [0x011C, 5], [0x011C, 7],
  [0x0174, 1], [0x0174, 5], [0x0174, 6], [0x0232, 4]];
const REFUSED = [[0x0131, 0], [0x0131, 5], [0x0131, 7], [0x0131, 8], [0x0131, 9], [0x0232, 2], [0x0111, 2], [0x0132, 4], [0x0012, 0]];

const hex = (b) => Buffer.from(b).toString('hex');

function assert(cond, why) {
  if (!cond) throw new Error(why);
}

// An SZL read over raw frames: the first request, then follow-ups under
// the answer's sequence number while "more follows"; returns the list
// bytes from LENTHDR on (what snap7 hands back, but big-endian) and the
// number of parts. Each part is checked against the PDU.
async function rawSzl(conn, pdu, id, index) {
  let ref = 0x100;
  const req = Buffer.from([0x32, 7, 0, 0, 0, 0, 0, 8, 0, 8, 0, 1, 0x12, 4, 0x11, 0x44, 1, 0,
    0xFF, 9, 0, 4, id >> 8, id & 0xFF, index >> 8, index & 0xFF]);
  req.writeUInt16BE(ref++, 4);
  let a = await conn.exchange(req);
  const parts = [];
  for (;;) {
    assert(a && a[1] === 7, 'no userdata answer');
    assert(a.length <= pdu, `answer of ${a.length} bytes > PDU ${pdu}`);
    const plen = a.readUInt16BE(6);
    const p = a.subarray(10, 10 + plen);
    const d = a.subarray(10 + plen);
    assert(p.readUInt16BE(10) === 0, `error 0x${p.readUInt16BE(10).toString(16)}`);
    assert(d[0] === 0xFF && d[1] === 9, `data header ${hex(d.subarray(0, 2))}`);
    parts.push(d.subarray(4, 4 + d.readUInt16BE(2)));
    if (p[9] === 0) break;
    assert(parts.length < 16, 'too many parts');
    const next = Buffer.from([0x32, 7, 0, 0, 0, 0, 0, 12, 0, 4, 0, 1, 0x12, 8, 0x12, 0x44, 1,
      p[7], 0, 0, 0, 0, 0x0A, 0, 0, 0]);
    next.writeUInt16BE(ref++, 4);
    a = await conn.exchange(next);
  }
  const all = Buffer.concat(parts);
  assert(all.readUInt16BE(0) === id && all.readUInt16BE(2) === index, 'wrong list');
  return { list: all.subarray(4), parts: parts.length };
}

// node-snap7's ReadSZL: LENTHDR and N_DR in host order, records as sent
function snapList(data) {
  const out = Buffer.from(data);
  out.writeUInt16BE(data.readUInt16LE(0), 0);
  out.writeUInt16BE(data.readUInt16LE(2), 2);
  return out;
}

async function connected(snap7, port, pdu) {
  const c = snap7Client(snap7, port);
  if (pdu) c.SetParam(c.PDURequest, pdu);
  const r = await call(c, 'ConnectTo', '127.0.0.1', 0, 1);
  assert(r.err === 0, `ConnectTo: ${snapErr(c, r)}`);
  return c;
}

finish(async () => {
  const snap7 = loadSnap7(srcDir);
  const sim = await startRingSim(plcgw, srcDir);
  try {
    const c = await connected(snap7, sim.s7, 0);
    const c240 = await connected(snap7, sim.s7, 240);

    await check('PDU 240 negotiated for the small client', () => {
      assert(c240.PDULength() === 240, `PDU ${c240.PDULength()}`);
    });

    await check('ReadSZLList lists exactly the IDs served', async () => {
      const r = await call(c, 'ReadSZLList');
      assert(r.err === 0, snapErr(c, r));
      assert(JSON.stringify(r.data) === JSON.stringify(SERVED.map((x) => x[0])),
        `listed ${JSON.stringify(r.data)}`);
    });

    for (const [id, idx] of SERVED.concat(MORE_INDEXES)) {
      await check(`ReadSZL 0x${id.toString(16)} index ${idx} at PDU 960 and 240, same list`, async () => {
        const a = await call(c, 'ReadSZL', id, idx);
        assert(a.err === 0, snapErr(c, a));
        const b = await call(c240, 'ReadSZL', id, idx);
        assert(b.err === 0, snapErr(c240, b));
        const la = snapList(a.data);
        const lb = snapList(b.data);
        const rl = la.readUInt16BE(0);
        const n = la.readUInt16BE(2);
        const body = (id & 0xFF00) === 0x0F00 ? 0 : rl * n;
        assert(la.length === 4 + body, `${la.length} bytes for ${n} x ${rl}`);
        // 0x0424's time stamp is the CPU clock now until a mode change is logged
        if (id === 0x0424) { la.fill(0, 4 + 12, 4 + 20); lb.fill(0, 4 + 12, 4 + 20); }
        assert(hex(la) === hex(lb), `PDU 960 ${hex(la)} vs 240 ${hex(lb)}`);
        return `${n} x ${rl} bytes`;
      });
    }

    await check('ReadSZL 0x0131 indexes 2, 3, 4, 6: one 40-byte record each, limits agree', async () => {
      const rec = {};
      for (const idx of [1, 2, 3, 4, 6]) {
        const r = await call(c240, 'ReadSZL', 0x0131, idx);
        assert(r.err === 0, `index ${idx}: ${snapErr(c240, r)}`);
        const l = snapList(r.data);
        assert(l.length === 4 + 40 && l.readUInt16BE(0) === 40 && l.readUInt16BE(2) === 1,
          `index ${idx}: ${hex(l.subarray(0, 4))}, ${l.length} bytes`);
        rec[idx] = l.subarray(4);
        assert(rec[idx].readUInt16BE(0) === idx, `index ${idx}: record index ${hex(rec[idx])}`);
      }
      const pdu = rec[1].readUInt16BE(2);
      const conns = rec[1].readUInt16BE(4);
      // docs 11.6: nothing of TIS or communication SFBs; O&M and OMS bits
      assert(rec[2].subarray(2).equals(Buffer.alloc(38)), `index 2 ${hex(rec[2])}`);
      assert(rec[6].subarray(2).equals(Buffer.alloc(38)), `index 6 ${hex(rec[6])}`);
      assert(hex(rec[3].subarray(2, 6)) === '03e08101', `index 3 funkt ${hex(rec[3])}`);
      assert(rec[3].readUInt16BE(6) === pdu - 18, `index 3 data ${rec[3].readUInt16BE(6)}`);
      assert(hex(rec[4].subarray(2, 10)) === '8001210000000000', `index 4 funkt ${hex(rec[4])}`);
      assert(rec[4][13] === Math.min(conns, 255), `index 4 hoch ${rec[4][13]}`);
      return `3: ${hex(rec[3].subarray(0, 8))}, 4: ${hex(rec[4].subarray(0, 14))}`;
    });

    for (const [id, idx] of REFUSED) {
      await check(`ReadSZL 0x${id.toString(16)} index ${idx} refused, link kept`, async () => {
        const r = await call(c240, 'ReadSZL', id, idx);
        assert(r.err !== 0, 'answered');
        const s = await call(c240, 'ReadSZL', 0x0011, 0);
        assert(s.err === 0, snapErr(c240, s));
      });
    }

    await check('fragmented 0x001C and 0x00A0: node-snap7 bytes = raw parts assembled', async () => {
      const raw = await rawConnect(sim.s7, 240);
      try {
        const notes = [];
        for (const id of [0x001C, 0x00A0, 0x0000]) {
          const r = await rawSzl(raw, 240, id, 0);
          const s = await call(c240, 'ReadSZL', id, 0);
          assert(s.err === 0, snapErr(c240, s));
          assert(hex(snapList(s.data)) === hex(r.list), `0x${id.toString(16)} differs`);
          notes.push(`0x${id.toString(16)}: ${r.list.length} bytes in ${r.parts} part(s)`);
        }
        assert(/in [2-9] part/.test(notes[0]), `0x001C not in parts at PDU 240: ${notes[0]}`);
        return notes.join(', ');
      } finally {
        raw.close();
      }
    });

    await check('a follow-up with no answer pending gets an error, not data', async () => {
      const raw = await rawConnect(sim.s7, 240);
      try {
        const a = await raw.exchange(Buffer.from([0x32, 7, 0, 0, 0, 9, 0, 12, 0, 4, 0, 1, 0x12, 8,
          0x12, 0x44, 1, 0x33, 0, 0, 0, 0, 0x0A, 0, 0, 0]));
        assert(a && a.readUInt16BE(20) !== 0, `answer ${a && hex(a)}`);
        assert(hex(a.subarray(22)) === '0a000000', `data ${hex(a.subarray(22))}`);
      } finally {
        raw.close();
      }
    });

    await check('GetCpuInfo (0x001C in parts at PDU 240)', async () => {
      const r = await call(c240, 'GetCpuInfo');
      assert(r.err === 0, snapErr(c240, r));
      assert(r.data.ModuleTypeName.trim() !== '' && r.data.ASName.trim() !== '',
        JSON.stringify(r.data));
      const s = await call(c, 'GetCpuInfo');
      assert(JSON.stringify(s.data) === JSON.stringify(r.data), 'differs at PDU 960');
      return JSON.stringify(r.data);
    });

    await check('GetOrderCode', async () => {
      const r = await call(c240, 'GetOrderCode');
      assert(r.err === 0, snapErr(c240, r));
      assert(r.data.Code.trim().startsWith('6ES7'), JSON.stringify(r.data));
      return `${r.data.Code.trim()} V${r.data.V1}.${r.data.V2}.${r.data.V3}`;
    });

    await check('GetCpInfo', async () => {
      const r = await call(c240, 'GetCpInfo');
      assert(r.err === 0, snapErr(c240, r));
      assert(r.data.MaxPduLength >= 240 && r.data.MaxConnections > 0, JSON.stringify(r.data));
      return JSON.stringify(r.data);
    });

    await check('GetProtection: no password, level 1', async () => {
      const r = await call(c240, 'GetProtection');
      assert(r.err === 0, snapErr(c240, r));
      const p = r.data;
      assert(p.sch_schal === 1 && p.sch_par === 0 && p.sch_rel === 1 && p.bart_sch === 2,
        JSON.stringify(p));
    });

    await check('PlcStatus: RUN', async () => {
      const r = await call(c240, 'PlcStatus');
      assert(r.err === 0 && r.data === c240.S7CpuStatusRun, snapErr(c240, r));
    });

    c.Disconnect();
    c240.Disconnect();
  } finally {
    await stopAll();
  }
});
