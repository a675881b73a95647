// live_node_server.js PAYLOAD_FILE - the reference for bench/live_fanout:
// node's socket.io 4 server with its default options, serving what the
// gateway's live channel serves: clients `subscribe` (acknowledged) and
// get `live_data` every 100 ms, the payload of PAYLOAD_FILE (a sample of
// the gateway's own live_data) with the server's `ts`, one emit to the
// room of subscribers. Listens on a free loopback port and prints
// "listening PORT".
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { Server } = require('socket.io');

const sample = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const server = http.createServer();
const io = new Server(server);
io.on('connection', (socket) => {
  socket.on('subscribe', (_payload, ack) => {
    socket.join('live');
    if (typeof ack === 'function') ack({ ok: true, machine: sample.machine });
  });
});
setInterval(() => {
  io.to('live').emit('live_data', { ...sample, ts: Date.now() });
}, 100);
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
