#!/usr/bin/env node
// sio_protocol.js URL - the Socket.IO protocol v5 conformance suite (over
// Engine.IO v4) against the `/socket.io/` endpoint of a server at URL (for
// example http://127.0.0.1:8000; also read from $PLCGW_PROTOCOL_URL).
//
// Ported test for test from the reference suite
//   socketio/socket.io-protocol  test-suite/test-suite.js  (EIO=4, main)
// whose expectations follow the protocol description in
//   socketio/socket.io-protocol  Readme.md  ("the 5th version")
// The server under test is configured as that Readme's reference server:
// pingInterval 300, pingTimeout 200, maxPayload 1000000, connectTimeout
// 1000, CORS origin "*"; on connection to "/" and to "/custom" it emits
// "auth" with the client's auth payload; on "/" it answers "message" with
// "message-back" and the same arguments, and acknowledges
// "message-with-ack" with its arguments; other namespaces are refused.
//
// The reference suite runs under mocha with chai in Node.js (fetch plus the
// `ws` package as WebSocket); here the same steps run under a small
// sequential runner (suite.js) with node:assert, node's fetch and `ws`:
//   - each test has mocha's default 2000 ms, the heartbeat block 5000 ms as
//     in the reference (`this.timeout(5000)`);
//   - a WebSocket delivers each message in its own event-loop turn and a
//     message arriving while nobody waits for it is not kept, as a browser
//     WebSocket with addEventListener(..., { once: true }) behaves in the
//     reference helpers (`allowSynchronousEvents: false` in ws);
//   - waitForPackets() skips Engine.IO pings ("2") as the reference does;
//   - the reference's WebSocket "should fail with an invalid ... parameter"
//     tests start waitFor(socket, "close") without awaiting it; here the
//     close is awaited, which is what the Engine.IO README requires.
// After the ported tests, the block "reference server behaviour" checks
// what the suite leaves out: the bodies of the 400 answers (socketio/
// socket.io packages/engine.io/lib/server.ts, {"code":N,"message":"..."}
// as application/json), the connectTimeout of 1000 ms on its own (in the
// suite the ping timeout, 500 ms, closes the connection first), and the
// Socket.IO exchange of the Readme's sample session over HTTP long-polling,
// binary attachments included (base64 with the "b" prefix).
//
// Output: one `ok N - name` / `not ok N - name: reason` line per test;
// exit status 1 if any test failed. Every wait is bounded (per test, and
// the whole file by $PROTOCOL_SUITE_MS, default 50 s). $PROTOCOL_SUITE_GREP
// runs only the tests whose full name contains it.
'use strict';

const assert = require('node:assert');
const t = require('./suite.js')({ name: 'sio_protocol', path: '/socket.io/' });
const {
  URL, WS_URL, describe, it, fetch, WebSocket, waitFor, initLongPollingSession, assertAllKeys,
  assertStartsWith, assertErrorBody, main,
} = t;

const CONNECT_TIMEOUT = 1000;

// ================================================ reference suite helpers

function waitForPackets(socket, count) {
  const packets = [];

  return new Promise((resolve) => {
    const handler = (event) => {
      if (event.data === '2') {
        // ignore PING packets
        return;
      }
      packets.push(event.data);
      if (packets.length === count) {
        socket.removeEventListener('message', handler);
        resolve(packets);
      }
    };
    socket.addEventListener('message', handler);
  });
}

async function initSocketIOConnection() {
  const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
  socket.binaryType = 'arraybuffer';

  await waitFor(socket, 'message'); // Engine.IO handshake

  socket.send('40');

  await waitFor(socket, 'message'); // Socket.IO handshake
  await waitFor(socket, 'message'); // "auth" packet

  return socket;
}

// chai's expect(arrayBuffer).to.eql(Uint8Array.from(bytes).buffer)
function assertBinary(data, bytes) {
  assert.ok(data instanceof ArrayBuffer, `expected a binary frame, got ${JSON.stringify(data)}`);
  assert.deepStrictEqual(data, Uint8Array.from(bytes).buffer);
}

// ================================ socketio/socket.io-protocol test-suite.js
// (its Engine.IO handshake, heartbeat and close tests are the Engine.IO
// suite's, in engineio_transport.js, under that suite's names)

describe('Engine.IO protocol', () => {
  require('./engineio_transport.js')(t); // handshake, heartbeat, close

  describe('upgrade', () => {
    it('should successfully upgrade from HTTP long-polling to WebSocket', async () => {
      const sid = await initLongPollingSession();

      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);

      await waitFor(socket, 'open');

      // send probe
      socket.send('2probe');

      const probeResponse = await waitFor(socket, 'message');

      assert.strictEqual(probeResponse.data, '3probe');

      // complete upgrade
      socket.send('5');
    });

    it('should ignore HTTP requests with same sid after upgrade', async () => {
      const sid = await initLongPollingSession();

      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);

      await waitFor(socket, 'open');
      socket.send('2probe');
      socket.send('5');

      const pollResponse = await fetch(`${URL}/socket.io/?EIO=4&transport=polling&sid=${sid}`);

      assert.strictEqual(pollResponse.status, 400);
    });

    it('should ignore WebSocket connection with same sid after upgrade', async () => {
      const sid = await initLongPollingSession();

      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);

      await waitFor(socket, 'open');
      socket.send('2probe');
      socket.send('5');

      const socket2 = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);

      await waitFor(socket2, 'close');
    });
  });
});

describe('Socket.IO protocol', () => {
  describe('connect', () => {
    it('should allow connection to the main namespace', async () => {
      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

      await waitFor(socket, 'message'); // Engine.IO handshake

      socket.send('40');

      const { data } = await waitFor(socket, 'message');

      assertStartsWith(data, '40');

      const handshake = JSON.parse(data.substring(2));

      assertAllKeys(handshake, 'sid');
      assert.strictEqual(typeof handshake.sid, 'string');

      const authPacket = await waitFor(socket, 'message');

      assert.strictEqual(authPacket.data, '42["auth",{}]');
    });

    it('should allow connection to the main namespace with a payload', async () => {
      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

      await waitFor(socket, 'message'); // Engine.IO handshake

      socket.send('40{"token":"123"}');

      const { data } = await waitFor(socket, 'message');

      assertStartsWith(data, '40');

      const handshake = JSON.parse(data.substring(2));

      assertAllKeys(handshake, 'sid');
      assert.strictEqual(typeof handshake.sid, 'string');

      const authPacket = await waitFor(socket, 'message');

      assert.strictEqual(authPacket.data, '42["auth",{"token":"123"}]');
    });

    it('should allow connection to a custom namespace', async () => {
      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

      await waitFor(socket, 'message'); // Engine.IO handshake

      socket.send('40/custom,');

      const { data } = await waitFor(socket, 'message');

      assertStartsWith(data, '40/custom,');

      const handshake = JSON.parse(data.substring(10));

      assertAllKeys(handshake, 'sid');
      assert.strictEqual(typeof handshake.sid, 'string');

      const authPacket = await waitFor(socket, 'message');

      assert.strictEqual(authPacket.data, '42/custom,["auth",{}]');
    });

    it('should allow connection to a custom namespace with a payload', async () => {
      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

      await waitFor(socket, 'message'); // Engine.IO handshake

      socket.send('40/custom,{"token":"abc"}');

      const { data } = await waitFor(socket, 'message');

      assertStartsWith(data, '40/custom,');

      const handshake = JSON.parse(data.substring(10));

      assertAllKeys(handshake, 'sid');
      assert.strictEqual(typeof handshake.sid, 'string');

      const authPacket = await waitFor(socket, 'message');

      assert.strictEqual(authPacket.data, '42/custom,["auth",{"token":"abc"}]');
    });

    it('should disallow connection to an unknown namespace', async () => {
      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

      await waitFor(socket, 'message'); // Engine.IO handshake

      socket.send('40/random');

      const { data } = await waitFor(socket, 'message');

      assert.strictEqual(data, '44/random,{"message":"Invalid namespace"}');
    });

    it('should disallow connection with an invalid handshake', async () => {
      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

      await waitFor(socket, 'message'); // Engine.IO handshake

      socket.send('4abc');

      await waitFor(socket, 'close');
    });

    it('should close the connection if no handshake is received', async () => {
      const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

      await waitFor(socket, 'close');
    });
  });

  describe('disconnect', () => {
    it('should disconnect from the main namespace', async () => {
      const socket = await initSocketIOConnection();

      socket.send('41');

      const { data } = await waitFor(socket, 'message');

      assert.strictEqual(data, '2');
    });

    it('should connect then disconnect from a custom namespace', async () => {
      const socket = await initSocketIOConnection();

      await waitFor(socket, 'message'); // ping

      socket.send('40/custom');

      await waitFor(socket, 'message'); // Socket.IO handshake
      await waitFor(socket, 'message'); // auth packet

      socket.send('41/custom');
      socket.send('42["message","message to main namespace"]');

      const { data } = await waitFor(socket, 'message');

      assert.strictEqual(data, '42["message-back","message to main namespace"]');
    });
  });

  describe('message', () => {
    it('should send a plain-text packet', async () => {
      const socket = await initSocketIOConnection();

      socket.send('42["message",1,"2",{"3":[true]}]');

      const { data } = await waitFor(socket, 'message');

      assert.strictEqual(data, '42["message-back",1,"2",{"3":[true]}]');
    });

    it('should send a packet with binary attachments', async () => {
      const socket = await initSocketIOConnection();

      socket.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      socket.send(Uint8Array.from([1, 2, 3]));
      socket.send(Uint8Array.from([4, 5, 6]));

      const packets = await waitForPackets(socket, 3);

      assert.strictEqual(packets[0],
        '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      assertBinary(packets[1], [1, 2, 3]);
      assertBinary(packets[2], [4, 5, 6]);

      socket.close();
    });

    it('should send a plain-text packet with an ack', async () => {
      const socket = await initSocketIOConnection();

      socket.send('42456["message-with-ack",1,"2",{"3":[false]}]');

      const { data } = await waitFor(socket, 'message');

      assert.strictEqual(data, '43456[1,"2",{"3":[false]}]');
    });

    it('should send a packet with binary attachments and an ack', async () => {
      const socket = await initSocketIOConnection();

      socket.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      socket.send(Uint8Array.from([1, 2, 3]));
      socket.send(Uint8Array.from([4, 5, 6]));

      const packets = await waitForPackets(socket, 3);

      assert.strictEqual(packets[0], '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      assertBinary(packets[1], [1, 2, 3]);
      assertBinary(packets[2], [4, 5, 6]);

      socket.close();
    });

    it('should close the connection upon invalid format (unknown packet type)', async () => {
      const socket = await initSocketIOConnection();

      socket.send('4abc');

      await waitFor(socket, 'close');
    });

    it('should close the connection upon invalid format (invalid payload format)', async () => {
      const socket = await initSocketIOConnection();

      socket.send('42{}');

      await waitFor(socket, 'close');
    });

    it('should close the connection upon invalid format (invalid ack id)', async () => {
      const socket = await initSocketIOConnection();

      socket.send('42abc["message-with-ack",1,"2",{"3":[false]}]');

      await waitFor(socket, 'close');
    });
  });
});

// ==================== reference server behaviour beyond the suite's checks

function pollUrl(sid) {
  return `${URL}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
}

async function post(sid, body) {
  const response = await fetch(pollUrl(sid), { method: 'post', body });
  assert.strictEqual(response.status, 200);
  assert.strictEqual(await response.text(), 'ok');
}

// GETs until `count` packets other than pings have come (each ping is
// answered with a pong); the packets are those of the \x1e-separated bodies
async function pollPackets(sid, count) {
  const packets = [];
  while (packets.length < count) {
    const response = await fetch(pollUrl(sid));
    assert.strictEqual(response.status, 200);
    for (const packet of (await response.text()).split('\x1e')) {
      if (packet === '2') await post(sid, '3');
      else packets.push(packet);
    }
  }
  assert.strictEqual(packets.length, count, `more packets than expected: ${JSON.stringify(packets)}`);
  return packets;
}

describe('reference server behaviour', () => {
  // socketio/socket.io packages/engine.io/lib/server.ts: verify() checks the
  // transport, then the sid, then the method (a handshake is GET only);
  // handshake() then refuses any EIO other than "4"; abortRequest()
  // answers 400 with application/json and JSON.stringify({code, message}).
  describe('error bodies', () => {
    it('missing or unsupported EIO: {"code":5,"message":"Unsupported protocol version"}', async () => {
      for (const query of ['transport=polling', 'EIO=abc&transport=polling', 'EIO=3&transport=polling']) {
        const response = await fetch(`${URL}/socket.io/?${query}`);
        await assertErrorBody(response, 5, 'Unsupported protocol version');
      }
    });

    it('missing or unknown transport: {"code":0,"message":"Transport unknown"}', async () => {
      for (const query of ['EIO=4', 'EIO=4&transport=abc']) {
        const response = await fetch(`${URL}/socket.io/?${query}`);
        await assertErrorBody(response, 0, 'Transport unknown');
      }
    });

    it('handshake other than GET: {"code":2,"message":"Bad handshake method"}', async () => {
      for (const method of ['post', 'put']) {
        const response = await fetch(`${URL}/socket.io/?EIO=4&transport=polling`, { method });
        await assertErrorBody(response, 2, 'Bad handshake method');
      }
    });

    it('unknown session: {"code":1,"message":"Session ID unknown"}', async () => {
      const response = await fetch(`${URL}/socket.io/?EIO=4&transport=polling&sid=no-such-session`);
      await assertErrorBody(response, 1, 'Session ID unknown');
    });

    it('CORS origin "*": Access-Control-Allow-Origin on the handshake', async () => {
      const response = await fetch(`${URL}/socket.io/?EIO=4&transport=polling`, {
        headers: { Origin: 'http://example.test' },
      });
      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.headers.get('access-control-allow-origin'), '*');
      await response.text();
    });
  });

  // socketio/socket.io packages/socket.io/lib/client.ts: a connection that
  // has joined no namespace `connectTimeout` ms after it opened is closed.
  // The pings are answered, so that the ping timeout does not close it.
  it('closes a connection without CONNECT after connectTimeout (1000 ms), pings answered', async () => {
    const socket = new WebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);

    await waitFor(socket, 'message'); // Engine.IO handshake
    const opened = Date.now();
    socket.addEventListener('message', (event) => {
      if (event.data === '2') socket.send('3');
    });

    await waitFor(socket, 'close');
    const elapsed = Date.now() - opened;

    assert.ok(elapsed >= CONNECT_TIMEOUT - 200 && elapsed < CONNECT_TIMEOUT + 1000,
      `closed after ${elapsed} ms, expected about ${CONNECT_TIMEOUT} ms`);
  }, 3000);

  // socketio/socket.io-protocol Readme.md, "Sample session": the same
  // packets over HTTP long-polling, several per body separated by \x1e
  describe('HTTP long-polling', () => {
    it('connects to "/", gets "auth", and has "message" sent back', async () => {
      const sid = await initLongPollingSession();

      await post(sid, '40');

      const [handshake, auth] = await pollPackets(sid, 2);

      assertStartsWith(handshake, '40');
      assertAllKeys(JSON.parse(handshake.substring(2)), 'sid');
      assert.strictEqual(auth, '42["auth",{}]');

      await post(sid, '42["message","hello"]\x1e42456["message-with-ack",1,"2"]');

      const packets = await pollPackets(sid, 2);

      assert.deepStrictEqual(packets, ['42["message-back","hello"]', '43456[1,"2"]']);
    });

    it('sends binary attachments back base64-encoded with the "b" prefix', async () => {
      const sid = await initLongPollingSession();

      await post(sid, '40');
      await pollPackets(sid, 2); // Socket.IO handshake, auth packet

      await post(sid, '451-["message",{"_placeholder":true,"num":0}]\x1ebAQIDBA==');

      const packets = await pollPackets(sid, 2);

      assert.deepStrictEqual(packets, ['451-["message-back",{"_placeholder":true,"num":0}]', 'bAQIDBA==']);
    });
  });
});

// ================================================================== main

main();
