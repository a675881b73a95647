#!/usr/bin/env node
// s7_blocks.js PLCGW SOURCE_DIR - node-snap7's block functions against
// `plcgw sim` (docs/s7comm.md 14): list, list of a type, block info,
// full and body upload, DBGet, download as another number, delete,
// compress, copy RAM to ROM, an unknown block. Only 127.0.0.1; every wait
// bounded; the simulator stopped by its PID.
'use strict';

const path = require('node:path');
const { startRingSim, loadSnap7, snap7Client, call, snapErr, stopAll } =
  require('./s7kit.js');
const { check, finish } = require('./gwtest.js');

const [plcgw, srcDir] = process.argv.slice(2).map((p) => path.resolve(p));


async function main() {
  const snap7 = loadSnap7(srcDir);
  const sim = await startRingSim(plcgw, srcDir);
  const c = snap7Client(snap7, sim.s7);
  try {
    const conn = await call(c, 'ConnectTo', '127.0.0.1', 0, 1);
    if (conn.err) throw new Error(`ConnectTo: ${snapErr(c, conn)}`);

    await check('ListBlocks: 3 DBs, no OB/FB/FC', async () => {
      const r = await call(c, 'ListBlocks');
      if (r.err) throw new Error(snapErr(c, r));
      if (r.data.DBCount !== 3 || r.data.OBCount || r.data.FBCount || r.data.FCCount)
        throw new Error(JSON.stringify(r.data));
    });
    await check('ListBlocksOfType(DB) = 1, 2, 3', async () => {
      const r = await call(c, 'ListBlocksOfType', c.Block_DB);
      if (r.err) throw new Error(snapErr(c, r));
      if (JSON.stringify(Array.from(r.data)) !== '[1,2,3]') throw new Error(JSON.stringify(r.data));
    });

    let info;
    await check('GetAgBlockInfo(DB1): size, dates, names', async () => {
      const r = await call(c, 'GetAgBlockInfo', c.Block_DB, 1);
      if (r.err) throw new Error(snapErr(c, r));
      info = r.data;
      if (info.BlkType !== 0x0A || info.BlkNumber !== 1 || info.BlkLang !== 5 ||
          info.MC7Size < 1 || info.LoadSize !== info.MC7Size + 92 ||
          !/^\d{4}\/\d{2}\/\d{2}$/.test(info.CodeDate) || info.Header !== 'DB1' ||
          info.Author !== 'PLCGW')
        throw new Error(JSON.stringify(info));
      return `MC7 ${info.MC7Size} bytes, code ${info.CodeDate}`;
    });
    if (!info) return;

    let full;
    await check('FullUpload(DB1): header, data, footer', async () => {
      const r = await call(c, 'FullUpload', c.Block_DB, 1, 65536);
      if (r.err) throw new Error(snapErr(c, r));
      full = r.data;
      if (full.length !== info.LoadSize || full.readUInt16BE(6) !== 1 ||
          full.readUInt16BE(34) !== info.MC7Size)
        throw new Error(`${full.length} bytes`);
    });
    await check('Upload(DB1) = the data = DBGet(DB1) = DBRead(DB1)', async () => {
      const up = await call(c, 'Upload', c.Block_DB, 1, 65536);
      if (up.err) throw new Error(`Upload: ${snapErr(c, up)}`);
      const get = await call(c, 'DBGet', 1);
      if (get.err) throw new Error(`DBGet: ${snapErr(c, get)}`);
      const rd = await call(c, 'DBRead', 1, 0, info.MC7Size);
      if (rd.err) throw new Error(`DBRead: ${snapErr(c, rd)}`);
      if (!up.data.equals(rd.data) || !get.data.equals(rd.data) ||
          !full.subarray(36, 36 + info.MC7Size).equals(rd.data))
        throw new Error('the bytes differ');
    });
    await check('GetAgBlockInfo of an unknown block refused', async () => {
      const r = await call(c, 'GetAgBlockInfo', c.Block_DB, 77);
      if (!r.err) throw new Error('answered');
      return snapErr(c, r);
    });

    await check('Download DB1 as DB10, then DB10 reads as DB1', async () => {
      const r = await call(c, 'Download', 10, full);
      if (r.err) throw new Error(snapErr(c, r));
      const rd = await call(c, 'DBRead', 10, 0, info.MC7Size);
      if (rd.err) throw new Error(`DBRead DB10: ${snapErr(c, rd)}`);
      if (!rd.data.equals(full.subarray(36, 36 + info.MC7Size))) throw new Error('bytes differ');
      const l = await call(c, 'ListBlocks');
      if (l.data.DBCount !== 4) throw new Error(`DBCount ${l.data.DBCount}`);
    });
    await check('Delete DB10, then its read fails', async () => {
      const r = await call(c, 'Delete', c.Block_DB, 10);
      if (r.err) throw new Error(snapErr(c, r));
      const rd = await call(c, 'DBRead', 10, 0, 4);
      if (!rd.err) throw new Error('DB10 still reads');
      const text = snapErr(c, rd);
      if (!/not available|does not exist/i.test(text)) throw new Error(text);
      return text;
    });
    await check('Compress acknowledged', async () => {
      const r = await call(c, 'Compress', 2000);
      if (r.err) throw new Error(snapErr(c, r));
    });
    await check('CopyRamToRom refused in RUN (the CPU must be in STOP)', async () => {
      const r = await call(c, 'CopyRamToRom', 2000);
      if (!r.err) throw new Error('accepted in RUN');
      return snapErr(c, r);
    });
  } finally {
    c.Disconnect();
    await stopAll();
  }
}

finish(main);
