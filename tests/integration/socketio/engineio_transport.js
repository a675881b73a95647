// engineio_transport.js - the Engine.IO v4 tests that both reference
// suites hold, word for word but for their names: handshake (HTTP
// long-polling and WebSocket), heartbeat and close, ported from
// socketio/engine.io-protocol test-suite/test-suite.js (also the first
// block of socketio/socket.io-protocol's). Run at the suite's endpoint:
//   require('./engineio_transport.js')(t)  // t: what suite.js returned
'use strict';

const assert = require('node:assert');

module.exports = function transportTests(t) {
  const {
    path, URL, WS_URL, PING_INTERVAL, PING_TIMEOUT, describe, it, fetch, WebSocket, sleep,
    waitFor, initLongPollingSession, assertAllKeys, assertStartsWith,
  } = t;

  describe('handshake', () => {
    describe('HTTP long-polling', () => {
      it('successfully opens a session', async () => {
        const response = await fetch(`${URL}${path}?EIO=4&transport=polling`);

        assert.strictEqual(response.status, 200);

        const content = await response.text();

        assertStartsWith(content, '0');

        const value = JSON.parse(content.substring(1));

        assertAllKeys(value, 'sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload');
        assert.strictEqual(typeof value.sid, 'string');
        assert.deepStrictEqual(value.upgrades, ['websocket']);
        assert.strictEqual(value.pingInterval, PING_INTERVAL);
        assert.strictEqual(value.pingTimeout, PING_TIMEOUT);
        assert.strictEqual(value.maxPayload, 1000000);
      });

      it("fails with an invalid 'EIO' query parameter", async () => {
        const response = await fetch(`${URL}${path}?transport=polling`);

        assert.strictEqual(response.status, 400);

        const response2 = await fetch(`${URL}${path}?EIO=abc&transport=polling`);

        assert.strictEqual(response2.status, 400);
      });

      it("fails with an invalid 'transport' query parameter", async () => {
        const response = await fetch(`${URL}${path}?EIO=4`);

        assert.strictEqual(response.status, 400);

        const response2 = await fetch(`${URL}${path}?EIO=4&transport=abc`);

        assert.strictEqual(response2.status, 400);
      });

      it('fails with an invalid request method', async () => {
        const response = await fetch(`${URL}${path}?EIO=4&transport=polling`, {
          method: 'post',
        });

        assert.strictEqual(response.status, 400);

        const response2 = await fetch(`${URL}${path}?EIO=4&transport=polling`, {
          method: 'put',
        });

        assert.strictEqual(response2.status, 400);
      });
    });

    describe('WebSocket', () => {
      it('successfully opens a session', async () => {
        const socket = new WebSocket(`${WS_URL}${path}?EIO=4&transport=websocket`);

        const { data } = await waitFor(socket, 'message');

        assertStartsWith(data, '0');

        const value = JSON.parse(data.substring(1));

        assertAllKeys(value, 'sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload');
        assert.strictEqual(typeof value.sid, 'string');
        assert.deepStrictEqual(value.upgrades, []);
        assert.strictEqual(value.pingInterval, PING_INTERVAL);
        assert.strictEqual(value.pingTimeout, PING_TIMEOUT);
        assert.strictEqual(value.maxPayload, 1000000);

        socket.close();
      });

      it("fails with an invalid 'EIO' query parameter", async () => {
        const socket = new WebSocket(`${WS_URL}${path}?transport=websocket`);

        const closed = waitFor(socket, 'close');

        const socket2 = new WebSocket(`${WS_URL}${path}?EIO=abc&transport=websocket`);

        const closed2 = waitFor(socket2, 'close');

        await Promise.all([closed, closed2]);
      });

      it("fails with an invalid 'transport' query parameter", async () => {
        const socket = new WebSocket(`${WS_URL}${path}?EIO=4`);

        const closed = waitFor(socket, 'close');

        const socket2 = new WebSocket(`${WS_URL}${path}?EIO=4&transport=abc`);

        const closed2 = waitFor(socket2, 'close');

        await Promise.all([closed, closed2]);
      });
    });
  });

  describe('heartbeat', () => {
    describe('HTTP long-polling', () => {
      it('sends ping/pong packets', async () => {
        const sid = await initLongPollingSession();

        for (let i = 0; i < 3; i++) {
          const pollResponse = await fetch(`${URL}${path}?EIO=4&transport=polling&sid=${sid}`);

          assert.strictEqual(pollResponse.status, 200);

          const pollContent = await pollResponse.text();

          assert.strictEqual(pollContent, '2');

          const pushResponse = await fetch(`${URL}${path}?EIO=4&transport=polling&sid=${sid}`, {
            method: 'post',
            body: '3',
          });

          assert.strictEqual(pushResponse.status, 200);
        }
      });

      it('closes the session upon ping timeout', async () => {
        const sid = await initLongPollingSession();

        await sleep(PING_INTERVAL + PING_TIMEOUT);

        const pollResponse = await fetch(`${URL}${path}?EIO=4&transport=polling&sid=${sid}`);

        assert.strictEqual(pollResponse.status, 400);
      });
    });

    describe('WebSocket', () => {
      it('sends ping/pong packets', async () => {
        const socket = new WebSocket(`${WS_URL}${path}?EIO=4&transport=websocket`);

        await waitFor(socket, 'message'); // handshake

        for (let i = 0; i < 3; i++) {
          const { data } = await waitFor(socket, 'message');

          assert.strictEqual(data, '2');

          socket.send('3');
        }

        socket.close();
      });

      it('closes the session upon ping timeout', async () => {
        const socket = new WebSocket(`${WS_URL}${path}?EIO=4&transport=websocket`);

        await waitFor(socket, 'close'); // handshake
      });
    });
  }, 5000);

  describe('close', () => {
    describe('HTTP long-polling', () => {
      it('forcefully closes the session', async () => {
        const sid = await initLongPollingSession();

        const [pollResponse] = await Promise.all([
          fetch(`${URL}${path}?EIO=4&transport=polling&sid=${sid}`),
          fetch(`${URL}${path}?EIO=4&transport=polling&sid=${sid}`, {
            method: 'post',
            body: '1',
          }),
        ]);

        assert.strictEqual(pollResponse.status, 200);

        const pullContent = await pollResponse.text();

        assert.strictEqual(pullContent, '6');

        const pollResponse2 = await fetch(`${URL}${path}?EIO=4&transport=polling&sid=${sid}`);

        assert.strictEqual(pollResponse2.status, 400);
      });
    });

    describe('WebSocket', () => {
      it('forcefully closes the session', async () => {
        const socket = new WebSocket(`${WS_URL}${path}?EIO=4&transport=websocket`);

        await waitFor(socket, 'message'); // handshake

        socket.send('1');

        await waitFor(socket, 'close');
      });
    });
  });
};
