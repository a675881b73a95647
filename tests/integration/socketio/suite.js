// suite.js - what the two conformance suites eio_protocol.js (Engine.IO v4,
// endpoint /engine.io/) and sio_protocol.js (Socket.IO v5, endpoint
// /socket.io/) share, both run by run_protocol.sh: the small sequential
// runner that stands in for mocha (describe / it / runAll), node's fetch and
// the `ws` WebSocket bound to the running test, and the helpers both ports
// take from the reference suites or write for the reference server.
//
//   const { URL, WS_URL, describe, it, fetch, WebSocket, ..., main } =
//     require('./suite.js')({ name: 'eio_protocol', path: '/engine.io/' });
//   describe(...);            // the tests
//   main();                   // runs them, then exits 0 or 1
//
// name is the suite's own (usage line, summary line, bail-out messages);
// path is its endpoint, where initLongPollingSession() opens a session. The
// server is argv[2] or $PLCGW_PROTOCOL_URL. What each suite ports, and where
// its port differs from the reference, is said at the top of that suite.
'use strict';

const assert = require('node:assert');
const { AsyncLocalStorage } = require('node:async_hooks');

let WsWebSocket;
try {
  WsWebSocket = require('ws');
} catch (e) {
  console.log(`Bail out! cannot load the npm package ws (run scripts/bootstrap): ${e.message}`);
  process.exit(1);
}

// the reference server's heartbeat, the same in both suites' READMEs
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;

// ================================================================ runner

const TEST_MS = 2000;
const FILE_MS = Number(process.env.PROTOCOL_SUITE_MS) || 50000;
const GREP = process.env.PROTOCOL_SUITE_GREP || ''; // run only the tests whose name has it
const tests = [];
const scopes = [];
const als = new AsyncLocalStorage();
const nodeFetch = globalThis.fetch;

function describe(name, body, timeout) {
  scopes.push({ name, timeout });
  try {
    body();
  } finally {
    scopes.pop();
  }
}

// a test's time limit: its own, else its innermost block's, else TEST_MS
function it(name, fn, timeout) {
  const withTimeout = scopes.filter((s) => s.timeout).pop();
  tests.push({
    name: [...scopes.map((s) => s.name), name].join(' > '),
    fn,
    timeout: timeout || (withTimeout ? withTimeout.timeout : TEST_MS),
  });
}

// the running test's resources: its sockets are closed and its HTTP
// requests aborted when it ends, whatever the outcome
function current() {
  const c = als.getStore();
  if (!c) throw new Error('called outside a test');
  if (c.finished) throw new Error('the test has already ended');
  return c;
}

function fetch(url, init = {}) {
  return nodeFetch(url, { ...init, signal: current().abort.signal });
}

class WebSocket extends WsWebSocket {
  constructor(url) {
    super(url, { allowSynchronousEvents: false });
    this.on('error', () => {}); // a refused upgrade ends in "error" then "close"
    current().sockets.add(this);
  }
}

function reason(e) {
  if (e && e.cause && e.cause.message) return `${e.message} (${e.cause.message})`;
  return e && e.message ? e.message : String(e);
}

async function runAll(name) {
  const started = Date.now();
  let failed = 0;
  if (GREP) tests.splice(0, tests.length, ...tests.filter((t) => t.name.includes(GREP)));
  console.log(`1..${tests.length}`);
  for (let i = 0; i < tests.length; i++) {
    const t = tests[i];
    const n = i + 1;
    const left = FILE_MS - (Date.now() - started);
    if (left <= 0) {
      failed++;
      console.log(`not ok ${n} - ${t.name}: not run, the file's ${FILE_MS} ms are spent`);
      continue;
    }
    const ctx = { sockets: new Set(), abort: new AbortController(), finished: false };
    const limit = Math.min(t.timeout, left);
    let timer;
    try {
      const run = als.run(ctx, () => Promise.resolve().then(t.fn));
      run.catch(() => {});
      await Promise.race([
        run,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timeout of ${limit} ms exceeded`)), limit);
        }),
      ]);
      console.log(`ok ${n} - ${t.name}`);
    } catch (e) {
      failed++;
      const lines = reason(e).split('\n');
      console.log(`not ok ${n} - ${t.name}: ${lines[0]}`);
      for (const line of lines.slice(1)) if (line.trim()) console.log(`#   ${line}`);
    } finally {
      clearTimeout(timer);
      ctx.finished = true;
      ctx.abort.abort();
      for (const s of ctx.sockets) {
        if (s.readyState === WsWebSocket.CONNECTING) s.terminate();
        else if (s.readyState === WsWebSocket.OPEN) s.close();
      }
    }
  }
  console.log(`# ${name}: ${tests.length - failed} passed, ${failed} failed`);
  return failed;
}

// runs the tests declared so far, the whole file bounded by FILE_MS plus
// 10 s, and exits 1 if any failed
function main(name) {
  const fileTimer = setTimeout(() => {
    console.log(`Bail out! ${name} did not finish within ${FILE_MS + 10000} ms`);
    process.exit(1);
  }, FILE_MS + 10000);

  runAll(name).then(
    (failed) => {
      clearTimeout(fileTimer);
      process.exit(failed ? 1 : 0);
    },
    (e) => {
      console.log(`Bail out! ${reason(e)}`);
      process.exit(1);
    }
  );
}

// ================================================ reference suite helpers

function sleep(delay) {
  return new Promise((resolve) => setTimeout(resolve, delay));
}

function waitFor(socket, eventType) {
  return new Promise((resolve) => {
    socket.addEventListener(
      eventType,
      (event) => {
        resolve(event);
      },
      { once: true }
    );
  });
}

// chai's expect(x).to.have.all.keys(...)
function assertAllKeys(obj, ...keys) {
  assert.deepStrictEqual(Object.keys(obj).sort(), [...keys].sort());
}

// chai-string's expect(s).to.startsWith(prefix)
function assertStartsWith(s, prefix) {
  assert.ok(typeof s === 'string' && s.startsWith(prefix),
    `expected ${JSON.stringify(s)} to start with ${JSON.stringify(prefix)}`);
}

// ==================== reference server behaviour beyond the suite's checks

// a 400 answer of the reference server's abortRequest(): application/json,
// JSON.stringify({code, message})
async function assertErrorBody(response, code, message) {
  assert.strictEqual(response.status, 400);
  const type = response.headers.get('content-type') || '';
  assert.ok(/^application\/json\b/i.test(type), `expected Content-Type application/json, got "${type}"`);
  assert.strictEqual(await response.text(), JSON.stringify({ code, message }));
}

// ================================================================ set-up

// suite({ name, path }): the server's URL (exits 2 with the usage line if
// there is none), and everything above with initLongPollingSession() on
// path and main() for name
module.exports = function suite({ name, path }) {
  const BASE = (process.argv[2] || process.env.PLCGW_PROTOCOL_URL || '').replace(/\/+$/, '');
  if (!/^http:\/\/[^/]+$/.test(BASE)) {
    console.error(`usage: node ${name}.js http://127.0.0.1:PORT`);
    process.exit(2);
  }

  const URL = BASE;
  const WS_URL = URL.replace('http', 'ws');

  async function initLongPollingSession() {
    const response = await fetch(`${URL}${path}?EIO=4&transport=polling`);
    const content = await response.text();
    return JSON.parse(content.substring(1)).sid;
  }

  return {
    path,
    URL,
    WS_URL,
    PING_INTERVAL,
    PING_TIMEOUT,
    describe,
    it,
    fetch,
    WebSocket,
    sleep,
    waitFor,
    initLongPollingSession,
    assertAllKeys,
    assertStartsWith,
    assertErrorBody,
    main: () => main(name),
  };
};
