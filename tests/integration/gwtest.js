// gwtest.js - what the gateway's node test scripts share: TAP-like checks
// ("ok - ..." / "not ok - ..."), bounded waits, and the simulator's
// control API.
'use strict';

let failures = 0;

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Runs fn; prints "ok - name[: note]" or "not ok - name: why".
async function check(name, fn) {
  try {
    const note = await fn();
    console.log(`ok - ${name}${note ? `: ${note}` : ''}`);
  } catch (e) {
    failures++;
    console.log(`not ok - ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

// fn() until it is truthy (its value), every 50 ms, at most ms; a throw
// counts as not yet, and the last one is told on the timeout.
async function waitFor(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}` +
        (last ? ` (last: ${last.message ? last.message : JSON.stringify(last)})` : ''));
    }
    await sleep(50);
  }
}

// The simulator's control API at base: sim(method, path, body).
function simClient(base) {
  return async (method, p, body) => {
    const res = await fetch(base + p, {
      method, headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, data: await res.json().catch(() => null) };
  };
}

// Ends the script: its exit status is the number of failures.
function finish(main) {
  main().then(() => process.exit(failures),
    (e) => { console.log(`not ok - ${e.stack}`); process.exit(failures + 1); });
}

module.exports = { sleep, check, waitFor, simClient, finish, failures: () => failures };
