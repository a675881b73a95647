// hmi_browser.js - the HMI (web/dist) in headless chromium against a gateway
// running the demo config with its simulators: sign-in, the rig's live
// values, the hold-to-run jog (checked in the simulator's write log), a 422
// shown at the parameter it names, the history, the watermaker, the alarms.
// No request may leave the HMI's origin.
//
// Environment: HMI_URL (where web/dist is served with /api and /socket.io:
// the gateway, or `npm run web:preview` in front of it), SIM_URL (the
// simulator's control API), OP_USER / OP_PASS (an operator), PROFILE_DIR.
'use strict';
const assert = require('node:assert');
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');
const { chromium } = require('playwright-core');

const URL = (process.env.HMI_URL || 'http://127.0.0.1:4173').replace(/\/$/, '');
const SIM = (process.env.SIM_URL || 'http://127.0.0.1:11180').replace(/\/$/, '');
const USER = process.env.OP_USER || 'op';
const PASS = process.env.OP_PASS || 'op-pass-123';
const SHOTS = process.env.SHOT_DIR || '';

async function simWrites(since = 0) {
  return (await fetch(`${SIM}/sim/writes?since=${since}`)).json();
}

(async () => {
  const profile = process.env.PROFILE_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'hmi-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  let passed = 0, failed = 0;
  const step = async (name, fn) => {
    try { await fn(); passed++; console.log(`ok - ${name}`); }
    catch (e) { failed++; console.log(`not ok - ${name}: ${e.message.split('\n')[0]}`); }
  };
  const page = await browser.newPage();
  const foreign = [], errors = [];
  const origin = new globalThis.URL(URL);
  page.on('request', (r) => {
    const u = new globalThis.URL(r.url());
    if (u.protocol !== 'data:' && u.host !== origin.host) foreign.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  // a screenshot of each screen for people to look at (SHOT_DIR)
  const shot = async (name) => {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };

  try {
    await step('sign in with the session cookie', async () => {
      await page.goto(`${URL}/login?next=/rig`);
      await page.fill('#login-user', USER);
      await page.fill('#login-pass', PASS);
      await page.click('button[type=submit]');
      await page.waitForURL(`${URL}/rig`, { timeout: 5000 });
      await page.waitForSelector('.who-name');
      assert.strictEqual(await page.textContent('.who-name'), USER);
    });

    await step('the rig screen shows live values over the live channel', async () => {
      await page.waitForSelector('.chan-connected', { timeout: 8000 });
      await page.waitForFunction(() => /Updated/.test(document.querySelector('.rig-values .age')?.textContent || ''),
        null, { timeout: 5000 });
      const force = await page.textContent('.readout-big .readout-value');
      assert.match(force, /^-?\d+\.\d{3} kN$/);
      assert.ok(await page.isVisible('button.btn-stop'), 'STOP is visible');
      await shot('rig');
    });

    await step('jog is hold-to-run: renewed while held, released on pointerup', async () => {
      const since = (await simWrites()).length;
      const b = await page.getByRole('button', { name: /Jog up/ }).boundingBox();
      assert.ok(b, 'the jog button is on screen');
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
      await page.mouse.down();
      await page.waitForTimeout(700);
      await page.mouse.up();
      await page.waitForTimeout(400);
      const w = (await simWrites(since)).filter((x) => x.parameter === 'Jog_Backward');
      const on = w.filter((x) => x.after).length;
      assert.ok(on >= 3, `renewed while held (${on} writes of true)`);
      assert.ok(w.length && !w[w.length - 1].after, 'the last write releases it');
    });

    await step('a 422 is shown at the parameter it names', async () => {
      await page.fill('#param-pipe_diameter', '-1');
      await page.getByRole('button', { name: 'Write to PLC' }).click();
      await page.waitForSelector('#param-pipe_diameter-err', { timeout: 5000 });
      assert.match(await page.textContent('#param-pipe_diameter-err'), /Pipe_Diameter/);
      await page.getByRole('button', { name: 'Undo' }).click();
    });

    await step('the history lists the tests with filters in the address', async () => {
      await page.goto(`${URL}/rig/history?status=complete`);
      await page.waitForSelector('table tbody tr');
      assert.strictEqual(await page.inputValue('#f-status'), 'complete');
      await shot('history');
    });

    await step('the watermaker shows its mode, sensors and outputs', async () => {
      await page.goto(`${URL}/watermaker`);
      await page.waitForSelector('.sensor-cat');
      assert.match(await page.textContent('.mode-chip'), /Mode \d+/);
      assert.ok((await page.$$('.wm-grid .lamp')).length >= 6);
      await shot('watermaker');
    });

    await step('the alarms page lists alarms with pagination', async () => {
      await page.goto(`${URL}/alarms`);
      await page.waitForSelector('nav.pager');
      await shot('alarms');
    });

    await step('sign out', async () => {
      await page.goto(`${URL}/rig`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login/);
    });

    await step('every file came from the HMI\'s origin; no page errors', async () => {
      assert.deepStrictEqual(foreign, []);
      assert.deepStrictEqual(errors, []);
    });
  } finally {
    await browser.close();
    if (!process.env.PROFILE_DIR) fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
