// docs_browser.js - /docs in headless chromium: Swagger UI loads from the
// gateway alone (no request leaves it), lists the API, and "Try it out"
// calls POST /api/command/home signed in with the session cookie, then
// POST /api/servo/enable with a token given to "Authorize". The writes are
// checked in the simulator's write log.
//
// Environment: PLCGW_URL, SIM_URL, OP_TOKEN, PROFILE_DIR.
'use strict';
const assert = require('node:assert');
const { chromium } = require('playwright-core');

const URL = process.env.PLCGW_URL;
const SIM = process.env.SIM_URL;

async function simWrites() {
  return (await fetch(`${SIM}/sim/writes?since=0`)).json();
}

async function tryOut(page, id) {
  const op = page.locator(`#${id}`);
  await op.locator('.opblock-summary').first().click();
  await op.locator('.try-out__btn').click();
  await op.locator('.execute').click();
  const status = op.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor({ timeout: 10000 });
  return (await status.textContent()).trim();
}

(async () => {
  const browser = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  let failed = 0;
  const ok = (name) => console.log(`ok - ${name}`);
  const notOk = (name, e) => { failed++; console.log(`not ok - ${name}: ${e.message}`); };
  try {
    const page = await browser.newPage();
    const foreign = [];
    page.on('request', (r) => { if (!r.url().startsWith(URL)) foreign.push(r.url()); });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${URL}/docs`);
    await page.locator('#operations-default-post_api_command_home').waitFor({ timeout: 15000 });
    assert.deepStrictEqual(foreign, [], 'every file comes from the gateway');
    assert.deepStrictEqual(errors, []);
    ok('Swagger UI loads from the gateway alone and lists the API');

    try {
      // a browser's sign-in: the session cookie, sent by "Try it out"
      const r = await page.evaluate(async () => (await fetch('/api/auth/login', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'op', password: 'op-pass-123' }),
      })).status);
      assert.strictEqual(r, 200);
      const before = (await simWrites()).length;
      const st = await tryOut(page, 'operations-default-post_api_command_home');
      assert.strictEqual(st, '200', `status ${st}`);
      const w = (await simWrites()).slice(before);
      assert.ok(w.some((x) => x.parameter === 'Home' && x.after === true), 'Home was written');
      await page.evaluate(async () => fetch('/api/auth/logout', { method: 'POST' }));
      ok('Try it out with the session cookie: command/home answered 200, Home written');
    } catch (e) { notOk('Try it out with the session cookie', e); }

    try {
      // signed out: the same call is refused, then Authorize with a token
      await page.reload();
      const id = 'operations-default-post_api_servo_enable';
      await page.locator(`#${id}`).waitFor();
      const st = await tryOut(page, id);
      assert.strictEqual(st, '401', `status ${st}`);
      await page.locator('.btn.authorize').first().click();
      const bearer = page.locator('.auth-container').filter({ hasText: 'bearer' }).first();
      await bearer.locator('input').fill(process.env.OP_TOKEN);
      await bearer.locator('button.authorize').click();
      await page.locator('.btn-done').first().click();
      const op = page.locator(`#${id}`);
      await op.locator('.execute').click();
      await page.waitForFunction((sel) => {
        const cells = document.querySelectorAll(`${sel} .live-responses-table tbody .response-col_status`);
        return cells.length && cells[0].textContent.trim() === '200';
      }, `#${id}`, { timeout: 10000 });
      const w = await simWrites();
      assert.ok(w.some((x) => x.parameter === 'Enable' && x.after === true), 'Enable was written');
      ok('Authorize with a token, then Try it out: servo/enable answered 200');
    } catch (e) { notOk('Authorize with a token', e); }
  } catch (e) {
    notOk('/docs', e);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
})();
