// hmi_browser.js - the HMI (web/dist) in headless chromium against a gateway
// running the demo config with its simulators, doing what operators do:
// sign in, watch live values move (a load cell value set in the simulator),
// a 422 shown at the parameter it names, a whole ring-stiffness test run from
// the screen and found again in the history with its PDF, the hold-to-run
// jog (checked in the simulator's write log, also when the tab is closed
// while held), a DTS start on the watermaker, an injected alarm acknowledged,
// a viewer who cannot press any command, axe-core on every screen, and the
// time to the first screen. No request may leave the HMI's origin and no page
// may throw.
//
// Environment: HMI_URL (where web/dist is served with /api and /socket.io:
// the gateway, or `npm run web:preview` in front of it), SIM_URL (the
// simulator's control API), OP_USER / OP_PASS (an operator), VI_USER /
// VI_PASS (a viewer), SHOT_DIR (a screenshot of each screen goes there),
// GW_DB (optional: the gateway's database, read with sqlite3 for the
// reason of a jog's release).
'use strict';
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const { chromium } = require('playwright-core');

const URL = (process.env.HMI_URL || 'http://127.0.0.1:4173').replace(/\/$/, '');
const SIM = (process.env.SIM_URL || 'http://127.0.0.1:11180').replace(/\/$/, '');
const USER = process.env.OP_USER || 'op';
const PASS = process.env.OP_PASS || 'op-pass-123';
const VUSER = process.env.VI_USER || 'vi';
const VPASS = process.env.VI_PASS || 'vi-pass-123';
const SHOTS = process.env.SHOT_DIR || '';
const GW_DB = process.env.GW_DB || '';
const AXE = (() => {
  try { return require.resolve('axe-core/axe.min.js'); } catch {
    return path.join(__dirname, '..', '..', 'node_modules', 'axe-core', 'axe.min.js');
  }
})();

// the bounds: the box is shared and small, so waits are generous but finite
const T = 15000;           // a screen, a state, a PLC confirmation
const JOG_RELEASE_MS = 600; // pointer up / tab closed -> the PLC bit drops
const CLOCK_SLACK_MS = 2;   // wall_ms and Date.now() are whole milliseconds
const FIRST_SCREEN_MS = 1000;

async function sim(method, p, body) {
  const r = await fetch(`${SIM}${p}`, {
    method, headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const simIo = (dev, io, value) => sim('PUT', `/sim/devices/${dev}/ios/${encodeURIComponent(io)}`, { value });
const simProp = (dev, p, value) => sim('PUT', `/sim/devices/${dev}/properties/${encodeURIComponent(p)}`, { value });
const simWrites = (since = 0) => sim('GET', `/sim/writes?since=${since}`);
const nextSeq = async () => { const w = await simWrites(); return w.length ? w[w.length - 1].seq + 1 : 0; };

/** Polls fn (sync or async) every `every` ms until it returns a truthy value, at most `ms`. */
async function until(what, fn, ms = T, every = 50) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); } catch (e) { last = undefined; if (Date.now() > end) throw e; }
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The last jog start/release in the gateway's audit log (GW_DB), or ''. */
function lastJogAudit() {
  if (!GW_DB) return '';
  try {
    return execFileSync('sqlite3', ['-readonly', GW_DB,
      "SELECT action || ' ' || coalesce(\"values\", '') || ' ' || result FROM audit_log " +
      "WHERE action LIKE '%jog%' ORDER BY id DESC LIMIT 1"], { timeout: 5000 }).toString().trim();
  } catch (e) { return `(audit log not read: ${e.message.split('\n')[0]})`; }
}
/** The jog's release in the audit log, once it is written there (a moment after the PLC's write). */
async function jogReleaseAudit() {
  if (!GW_DB) return '';
  let last = '';
  try {
    return await until('the release in the audit log', () => /release|not read/.test(last = lastJogAudit()) && last, 3000);
  } catch { return last; }
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  let passed = 0, failed = 0;
  const figures = [];
  const note = (s) => console.log(`# ${s}`);
  const step = async (name, fn) => {
    const t0 = Date.now();
    try { await fn(); passed++; console.log(`ok - ${name} (${Date.now() - t0} ms)`); }
    catch (e) { failed++; console.log(`not ok - ${name}: ${e.message.split('\n')[0]}`); }
  };
  const foreign = [], errors = [];
  const origin = new globalThis.URL(URL);
  // every context's pages: no request leaves the origin, no page error
  const newContext = async (opts = {}) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...opts });
    ctx.setDefaultTimeout(T);
    ctx.on('request', (r) => {
      const u = new globalThis.URL(r.url());
      if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.host !== origin.host) foreign.push(r.url());
    });
    ctx.on('page', (p) => p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`)));
    return ctx;
  };
  // a screenshot of each screen for people to look at (SHOT_DIR)
  const shot = async (page, name) => {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };
  // axe-core on the screen as it is: serious and critical violations fail
  const axeStep = (page, name) => step(`axe: no serious or critical violation on ${name}`, async () => {
    await page.addScriptTag({ path: AXE });
    const res = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return { passes: r.passes.length, incomplete: r.incomplete.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ').slice(0, 200)})`),
        violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`),
      })) };
    });
    note(`axe ${name}: ${res.passes} rules passed, ${res.violations.length} violated${res.incomplete.length ? `; to review by eye: ${res.incomplete.join(', ')}` : ''}`);
    const vs = res.violations;
    for (const v of vs) {
      note(`axe ${name}: ${v.impact} ${v.id} (${v.help}), ${v.nodes.length} node(s)`);
      for (const n of v.nodes.slice(0, 5)) note(`    ${n.slice(0, 300)}`);
    }
    const bad = vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepStrictEqual(bad.map((v) => `${v.impact} ${v.id}`), [], 'serious or critical violations');
  });

  // the rig screen's parts
  const readout = (page, label) =>
    page.locator('.readout').filter({ has: page.locator('.readout-label', { hasText: new RegExp(`^${label}$`) }) })
      .locator('.readout-value');
  const lamp = (page, label) =>
    page.locator('.lamp').filter({ has: page.locator('.lamp-label', { hasText: new RegExp(`^${label}$`) }) })
      .locator('.lamp-value');
  const forceText = (page) => readout(page, 'Force').textContent({ timeout: 2000 });
  const waitText = (loc, re, ms = T) => until(`${re} in ${loc}`, async () => re.test((await loc.textContent({ timeout: 2000 })) || ''), ms);
  const chartPoints = async (page) => {
    const l = await page.getByRole('img', { name: /^Force against deflection of the running test/ }).getAttribute('aria-label');
    return Number((/: (\d+) points/.exec(l || '') || [])[1] || 0);
  };
  const signIn = async (page, user, pass, next) => {
    await page.goto(`${URL}/login?next=${next}`);
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(pass);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${URL}${next}`);
    await page.locator('.who-name').waitFor();
    assert.strictEqual(await page.textContent('.who-name'), user);
  };
  // holds the pointer on a jog button; up() lets go and returns Date.now() just before it did
  const holdJog = async (page, name) => {
    const btn = page.getByRole('button', { name });
    await until(`${name} enabled`, () => btn.isEnabled());
    const b = await btn.boundingBox();
    assert.ok(b, `${name} is on screen`);
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
    const down = Date.now();
    await page.mouse.down();
    return { down };
  };
  // the writes of a jog bit from its first set on: a timed release of an
  // earlier hold may write false once more just before it (harmless: the bit
  // is off already)
  const jogWrites = async (since, param) => {
    const w = (await simWrites(since)).filter((x) => x.parameter === param);
    const first = w.findIndex((x) => x.after);
    return first < 0 ? [] : w.slice(first);
  };

  const op = await newContext();
  const page = await op.newPage();
  const sample = `HMI-${Date.now().toString(36).toUpperCase()}`;
  let testId = 0;

  try {
    await step('the sign-in screen', async () => {
      await page.goto(`${URL}/login?next=/rig`);
      await page.getByLabel('User name').waitFor();
      await shot(page, 'login');
    });
    await axeStep(page, 'the sign-in screen');
    await step('sign in as the operator (the session cookie)', () => signIn(page, USER, PASS, '/rig'));

    await step('the rig screen shows live values that change (load cell set in the simulator)', async () => {
      await page.locator('.chan-connected').waitFor();
      await waitText(page.locator('.rig-values .age'), /Updated/);
      assert.match(await forceText(page), /^-?\d+\.\d{3} kN$/);
      assert.ok(await page.getByRole('button', { name: 'STOP' }).isVisible(), 'STOP is visible');
      for (const kN of [12.345, 3.21]) {
        await simIo('rig', 'load_cell_kN', kN);
        await waitText(readout(page, 'Force'), new RegExp(`^${kN.toFixed(3)} kN$`), 5000);
      }
      await simIo('rig', 'load_cell_kN', 0);
      await waitText(readout(page, 'Force'), /^-?0\.000 kN$/, 5000);
      await shot(page, 'rig');
    });
    await axeStep(page, 'the rig screen');

    await step(`the first screen comes in under ${FIRST_SCREEN_MS} ms (signed in, a fresh cache)`, async () => {
      // a new context with the operator's cookies and an empty cache; the page
      // notes when the force readout first shows a value (performance.now()
      // from the navigation's start) and the test when it heard of it. The
      // box is shared: up to 3 tries, the first under the bound passes.
      const tries = [];
      for (let i = 0; i < 3 && !tries.some((x) => x.ms <= FIRST_SCREEN_MS); i++) {
        const ctx = await newContext({ storageState: await op.storageState() });
        await ctx.addInitScript(() => {
          new MutationObserver((_, o) => {
            const e = [...document.querySelectorAll('.readout')]
              .find((r) => r.querySelector('.readout-label')?.textContent === 'Force')?.querySelector('.readout-value');
            if (e && /^-?\d+\.\d{3} kN$/.test(e.textContent) && e.getClientRects().length) {
              window.__forceAt = performance.now();
              o.disconnect();
            }
          }).observe(document, { subtree: true, childList: true, characterData: true });
        });
        try {
          const p = await ctx.newPage();
          const t0 = Date.now();
          await p.goto(`${URL}/rig`, { waitUntil: 'commit' });
          await p.waitForFunction(() => window.__forceAt, null, { polling: 'raf', timeout: 10000 });
          const ms = Date.now() - t0;
          assert.ok(await readout(p, 'Force').isVisible(), 'the force readout is visible');
          tries.push({ ms, inPage: Math.round(await p.evaluate(() => window.__forceAt)) });
        } finally { await ctx.close(); }
      }
      const txt = tries.map((x) => `${x.ms} ms (${x.inPage} ms from the navigation's start)`).join('; ');
      figures.push(`first screen (goto /rig to the force readout): ${txt}`);
      note(`first screen: ${txt}`);
      assert.ok(tries.some((x) => x.ms <= FIRST_SCREEN_MS), txt);
    });

    await step('no "connection lost" alarm while a screen makes its first connection', async () => {
      // every alert banner shown while the rig and the watermaker load
      const ctx = await newContext({ storageState: await op.storageState() });
      await ctx.addInitScript(() => {
        window.__banners = [];
        new MutationObserver(() => {
          for (const e of document.querySelectorAll('.plc-banner')) window.__banners.push(e.textContent);
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
      try {
        const p = await ctx.newPage();
        for (const where of ['/rig', '/watermaker']) {
          await p.goto(`${URL}${where}`);
          await p.locator('.chan-connected').waitFor();
          await p.waitForTimeout(300); // the first live values
          assert.deepStrictEqual(await p.evaluate(() => [...new Set(window.__banners)]), [], `banners on ${where}`);
        }
      } finally { await ctx.close(); }
    });

    await step('the live channel lost: the banner says so, commands are disabled; it comes back', async () => {
      await op.setOffline(true); // the browser's WebSocket goes
      try {
        const banner = page.locator('.plc-banner');
        await waitText(banner, /LIVE CHANNEL LOST/, 10000);
        assert.strictEqual(await banner.getAttribute('role'), 'alert');
        const start = page.getByRole('button', { name: 'Start test…' });
        await until('Start disabled', async () => !(await start.isEnabled()));
        assert.match(await start.getAttribute('title'), /live channel/);
        assert.ok(await page.getByRole('button', { name: /^Jog up/ }).isDisabled(), 'jog disabled');
      } finally { await op.setOffline(false); }
      await page.locator('.plc-banner').waitFor({ state: 'detached', timeout: 15000 });
      await page.locator('.chan-connected').waitFor();
      await waitText(page.locator('.rig-values .age'), /Updated/);
    });

    await step('a 422 is shown at the parameter it names', async () => {
      await page.fill('#param-pipe_diameter', '-1');
      await page.getByRole('button', { name: 'Write to PLC' }).click();
      await page.locator('#param-pipe_diameter-err').waitFor();
      assert.match(await page.textContent('#param-pipe_diameter-err'), /Pipe_Diameter/);
      assert.strictEqual(await page.getAttribute('#param-pipe_diameter', 'aria-invalid'), 'true');
      await page.getByRole('button', { name: 'Undo' }).click();
      await page.locator('#param-pipe_diameter-err').waitFor({ state: 'detached' });
    });

    await step('a ring-stiffness test runs from the screen and its curve fills', async () => {
      await sim('PUT', '/sim/clock', { time_scale: 20 });
      await page.getByRole('button', { name: 'Enable', exact: true }).click();
      await waitText(lamp(page, 'Servo enabled'), /^Enabled$/);
      await waitText(lamp(page, 'Servo ready'), /^Ready$/);
      await page.getByRole('button', { name: 'Lock upper' }).click();
      await waitText(lamp(page, 'Upper clamp'), /^Locked$/);
      await page.getByRole('button', { name: 'Lock lower' }).click();
      await waitText(lamp(page, 'Lower clamp'), /^Locked$/);

      await page.getByRole('button', { name: 'Start test…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Start a test' });
      await dlg.waitFor();
      await dlg.getByLabel('Sample id').fill(sample);
      assert.strictEqual(await dlg.getByLabel('Operator').inputValue(), USER, 'the operator is filled in');
      await dlg.getByLabel('Operator').fill(`${USER} (browser test)`);
      await dlg.getByLabel('Nominal class').selectOption('5000');
      await dlg.getByRole('button', { name: 'Start test' }).click();
      await dlg.waitFor({ state: 'hidden' });

      const head = page.locator('.head-state');
      await waitText(head, /Running/, 10000);
      // the chart grows while the test runs
      const seen = new Set();
      let shotTaken = false;
      await until('the test to complete', async () => {
        const st = (await head.textContent()) || '';
        if (/Running/.test(st)) {
          seen.add(await chartPoints(page));
          // the screenshot once the curve has some length
          if (!shotTaken && seen.size >= 3 && Math.max(...seen) >= 12) { shotTaken = true; await shot(page, 'rig-test'); }
        }
        return /Complete|Aborted/.test(st);
      }, 30000, 100);
      assert.match(await head.textContent(), /Complete/);
      const counts = [...seen].sort((a, b) => a - b);
      note(`chart points seen while running: ${counts.join(', ')}`);
      assert.ok(counts.length >= 3 && counts[counts.length - 1] > counts[0], `the chart filled (${counts.join(', ')})`);
      if (!shotTaken) await shot(page, 'rig-test');
      // the last test's panel names it
      const last = page.getByRole('link', { name: /^Last test #\d+$/ });
      await until('the last test panel', async () =>
        (await page.locator('.last-test').textContent()).includes(sample), 10000);
      testId = Number(/#(\d+)/.exec(await last.textContent())[1]);
      assert.ok((await chartPoints(page)) >= 20, 'the whole curve is on the chart');
      await sim('PUT', '/sim/clock', { time_scale: 1 });
    });

    await step('the test is in the history by its sample id; its page; its PDF', async () => {
      await page.getByRole('navigation', { name: /pages$/ }).getByRole('link', { name: 'History' }).click();
      await page.waitForURL(/\/rig\/history/);
      await page.getByLabel(/^Sample id/).fill(sample);
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(/sample_id=/);
      const rows = page.getByRole('table').getByRole('row');
      await until('one row for the sample', async () => (await rows.count()) === 2 &&
        (await rows.nth(1).textContent()).includes(sample));
      assert.match(await rows.nth(1).textContent(), /complete/);
      await shot(page, 'history');
      await page.getByRole('link', { name: sample }).click();
      await page.waitForURL(/\/rig\/tests\/\d+$/);
      assert.strictEqual(Number(/\/tests\/(\d+)$/.exec(page.url())[1]), testId, 'the test of the run');
      await page.getByRole('heading', { level: 1, name: `Test ${testId}: ${sample}` }).waitFor();
      await waitText(page.locator('.screen-head .tag'), /complete/);
      await waitText(page.locator('.verdict'), /PASSED/);
      const pdfLink = page.getByRole('link', { name: 'PDF report' });
      const href = await pdfLink.getAttribute('href');
      assert.strictEqual(href, `/api/report/pdf/${testId}`);
      // the link opens in a new tab: fetch it with the page's cookies
      const r = await op.request.get(new globalThis.URL(href, URL).toString(), { timeout: 30000 });
      assert.strictEqual(r.status(), 200, `PDF: HTTP ${r.status()}`);
      assert.match(r.headers()['content-type'] || '', /application\/pdf/);
      const body = await r.body();
      assert.strictEqual(body.subarray(0, 5).toString('latin1'), '%PDF-', 'the file is a PDF');
      assert.ok(body.length > 1000 && body.subarray(-1024).toString('latin1').includes('%%EOF'), 'the PDF is whole');
      note(`PDF of test ${testId}: ${body.length} bytes`);
      // the points download through the browser, as a user gets them
      const [dl] = await Promise.all([page.waitForEvent('download'),
        page.getByRole('link', { name: 'Points (CSV)' }).click()]);
      const csv = fs.readFileSync(await dl.path(), 'utf8');
      assert.match(csv, /^t_s,force_kN,deflection_mm,position_mm\r\n/);
      await shot(page, 'test');
    });
    await page.goto(`${URL}/rig/history`);
    await page.getByRole('table').getByRole('row').nth(1).waitFor();
    await axeStep(page, 'the history');
    await page.goto(`${URL}/rig/tests/${testId || 1}`);
    await page.getByRole('heading', { level: 1, name: /^Test \d+/ }).waitFor();
    await page.locator('.verdict, .tag').first().waitFor();
    await axeStep(page, 'a test\'s page');

    await step('jog is hold-to-run: set, renewed while held, released within 600 ms of pointer up', async () => {
      await page.goto(`${URL}/rig`);
      await page.locator('.chan-connected').waitFor();
      const since = await nextSeq();
      const { down } = await holdJog(page, /^Jog up/);
      await page.waitForTimeout(700); // the hold itself
      const up = Date.now();
      await page.mouse.up();
      const w = await until('the release in the write log', async () => {
        const x = await jogWrites(since, 'Jog_Backward');
        return x.some((y) => !y.after) ? x : null;
      }, 5000);
      const on = w.filter((x) => x.after);
      const rel = w.find((x) => !x.after);
      assert.ok(on.length >= 3, `renewed while held (${on.length} writes of true)`);
      assert.ok(!on[0].before, 'the first write set the bit');
      assert.ok(on[0].wall_ms >= down - CLOCK_SLACK_MS, 'set after the pointer went down');
      assert.ok(on.every((x) => x.seq < rel.seq), 'no write of true after the release');
      assert.ok(!w[w.length - 1].after, 'the last write releases it');
      const lat = rel.wall_ms - up;
      figures.push(`jog release after pointer up: ${lat} ms (set ${on[0].wall_ms - down} ms after down, ${on.length} writes of true)`);
      note(`jog release after pointer up: ${lat} ms; ${on.length} writes of true; ${await jogReleaseAudit()}`);
      assert.ok(lat >= -CLOCK_SLACK_MS && lat <= JOG_RELEASE_MS + CLOCK_SLACK_MS, `released ${lat} ms after pointer up`);
      // the operator let go: the server says so (not a timed release)
      await waitText(page.locator('.jog-status'), /released by the operator/, 5000);
    });

    // a second tab holds the jog and goes away: `how` ends it, returns Date.now() just before
    const jogTabGone = async (what, how) => {
      const p2 = await op.newPage();
      await p2.goto(`${URL}/rig`);
      await p2.locator('.chan-connected').waitFor();
      await waitText(p2.locator('.rig-values .age'), /Updated/);
      const since = await nextSeq();
      await holdJog(p2, /^Jog up/);
      await until('the jog set and renewed', async () =>
        (await jogWrites(since, 'Jog_Backward')).filter((x) => x.after).length >= 3, 5000);
      const gone = await how(p2);
      const w = await until('the release in the write log', async () => {
        const x = await jogWrites(since, 'Jog_Backward');
        return x.some((y) => !y.after) ? x : null;
      }, 5000);
      if (!p2.isClosed()) await p2.close();
      const rel = w.find((x) => !x.after);
      const lat = rel.wall_ms - gone;
      const audit = await jogReleaseAudit();
      figures.push(`jog release after ${what}: ${lat} ms${audit ? ` (${audit})` : ''}`);
      note(`jog release after ${what}: ${lat} ms; ${audit}`);
      assert.ok(lat >= -CLOCK_SLACK_MS, `released ${-lat} ms before ${what}`);
      assert.ok(lat <= JOG_RELEASE_MS + CLOCK_SLACK_MS, `released ${lat} ms after ${what}`);
      assert.ok(!w[w.length - 1].after, 'the last write releases it');
      return audit;
    };
    await step('jog held when the tab is closed: released within 600 ms of page.close()', () =>
      jogTabGone('the tab closed', async (p2) => { const t = Date.now(); await p2.close(); return t; }));
    await step('jog held when the tab\'s renderer dies (no page code runs): the gateway releases it within 600 ms', async () => {
      const audit = await jogTabGone('the renderer crashed', async (p2) => {
        const cdp = await op.newCDPSession(p2);
        const crashed = p2.waitForEvent('crash', { timeout: 5000 });
        const t = Date.now();
        cdp.send('Page.crash').catch(() => {}); // never answered: the renderer is gone
        await crashed;
        return t;
      });
      if (GW_DB) assert.match(audit, /client went/, 'released by the gateway because the client went');
    });

    await step('a DTS start on the watermaker: its task moves step by step', async () => {
      await sim('PUT', '/sim/clock', { time_scale: 20 });
      await page.getByRole('navigation', { name: 'Machines' }).getByRole('link', { name: /^Watermaker/ }).click();
      await page.waitForURL(`${URL}/watermaker`);
      await page.locator('.sensor-cat').first().waitFor();
      await waitText(page.locator('.mode-chip'), /Mode (2|65535|34):/);
      assert.ok((await page.locator('.wm-grid .lamp').count()) >= 6, 'the outputs are shown');
      await waitText(page.locator('.wm-screen .age'), /^values .* old$/);
      await page.locator('.wm-screen .age:not(.age-stale)').waitFor(); // live values came
      await shot(page, 'watermaker');
      await page.getByRole('region', { name: 'DTS' }).getByRole('button', { name: 'Start', exact: true }).click();
      const task = page.locator('.task');
      await waitText(task, /running/, 10000);
      const bar = page.getByRole('progressbar', { name: /^Task .* progress$/ });
      const stepOf = async () => Number((/Step (\d+) of/.exec(await task.textContent()) || [])[1] || 0);
      const first = { step: await stepOf(), pct: Number(await bar.getAttribute('aria-valuenow')) };
      await until('the task to move on a step', async () =>
        (await stepOf()) > first.step && Number(await bar.getAttribute('aria-valuenow')) > first.pct, 15000, 100);
      await shot(page, 'watermaker-dts');
      await waitText(task, /completed/, 30000);
      assert.strictEqual(Number(await bar.getAttribute('aria-valuenow')), 100);
      await waitText(page.locator('.mode-chip'), /Mode (5|6|7):/, 10000);
      note(`DTS: step ${first.step} (${first.pct} %) to ${await stepOf()} (100 %)`);
    });
    await axeStep(page, 'the watermaker (with a DTS task)');
    await step('the watermaker goes back to standby (System Mode 2 set in the simulator)', async () => {
      await simProp('watermaker', 'System Mode', 2);
      await waitText(page.locator('.mode-chip'), /Mode 2:/, 10000);
      await sim('PUT', '/sim/clock', { time_scale: 1 });
    });

    await step('an injected servo fault: banner, acknowledged on the alarms page, reset', async () => {
      await page.goto(`${URL}/rig`);
      await page.locator('.chan-connected').waitFor();
      await simIo('rig', 'servo_fault', true);
      const banner = page.getByRole('region', { name: 'Active alarms' });
      await waitText(banner, /Servo error/, 10000);
      await waitText(lamp(page, 'Servo error'), /^ERROR$/);
      await banner.getByRole('link', { name: 'Show alarms' }).click();
      await page.waitForURL(`${URL}/alarms`);
      await page.getByRole('navigation', { name: 'Which alarms' }).getByRole('link', { name: 'Active' }).click();
      await page.waitForURL(/active=true/);
      const row = page.getByRole('row').filter({ hasText: 'Servo error' })
        .filter({ has: page.getByRole('button', { name: /^Acknowledge alarm \d+$/ }) }).first();
      await row.waitFor();
      const ackBtn = row.getByRole('button', { name: /^Acknowledge alarm \d+$/ });
      const id = Number(/(\d+)$/.exec(await ackBtn.getAttribute('aria-label'))[1]);
      await shot(page, 'alarms');
      await ackBtn.click();
      await page.getByText(`Alarm ${id} acknowledged.`).waitFor();
      await page.getByRole('button', { name: `Acknowledge alarm ${id}` }).waitFor({ state: 'detached' });
      await until(`alarm ${id} gone from the active list`, async () =>
        !(await page.getByRole('table').getByRole('row').allTextContents()).some((t) => new RegExp(`^${id}\\D`).test(t)));
      await simIo('rig', 'servo_fault', false);
      await page.goto(`${URL}/rig`);
      await page.locator('.chan-connected').waitFor();
      await page.getByRole('button', { name: 'Reset alarm' }).click();
      await waitText(lamp(page, 'Servo error'), /^None$/, 10000);
    });
    await page.goto(`${URL}/alarms`);
    await page.getByRole('table').getByRole('row').nth(1).waitFor();
    await axeStep(page, 'the alarms');

    // a viewer in a browser of their own
    const vi = await newContext();
    try {
      const vp = await vi.newPage();
      await step('a viewer signs in', () => signIn(vp, VUSER, VPASS, '/rig'));
      const checkCommands = async (where, min, must) => {
        const btns = await vp.locator('main button').evaluateAll((els) => els.map((b) => {
          const ids = (b.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
          return {
            // the accessible name: aria-label, or the text that is not aria-hidden
            name: (b.getAttribute('aria-label') || [...b.childNodes].filter((n) => !(n.nodeType === 1 &&
              n.getAttribute('aria-hidden') === 'true')).map((n) => n.textContent).join(' '))
              .replace(/\s+/g, ' ').trim(),
            disabled: b.disabled, title: b.getAttribute('title') || '',
            described: ids.map((i) => document.getElementById(i)?.textContent || '').join(' ').trim(),
          };
        }));
        // not commands: closing a message
        const cmds = btns.filter((b) => !/^(Dismiss|×)$/.test(b.name));
        note(`${where}: ${cmds.length} command buttons: ${cmds.map((b) => b.name).join(', ')}`);
        assert.ok(cmds.length >= min, `${cmds.length} command buttons on ${where}`);
        for (const m of must) assert.ok(cmds.some((b) => m.test(b.name)), `${m} is on ${where}`);
        const open = cmds.filter((b) => !b.disabled).map((b) => b.name);
        assert.deepStrictEqual(open, [], `enabled for a viewer on ${where}`);
        const noReason = cmds.filter((b) => !/operator role/.test(b.title) || !/operator role/.test(b.described));
        assert.deepStrictEqual(noReason.map((b) => b.name), [], `no reason given on ${where}`);
      };
      await step('a viewer: every command on the rig is disabled, with the reason', async () => {
        await vp.locator('.chan-connected').waitFor();
        await waitText(vp.locator('.rig-values .age'), /Updated/);
        await vp.locator('.role-note').waitFor();
        await checkCommands('the rig', 13, [/^STOP$/, /^Start test/, /^Jog up/, /^Jog down/, /^Enable$/, /^Write to PLC$/]);
        assert.strictEqual(await vp.getAttribute('#param-pipe_diameter', 'readonly'), '', 'parameters are read-only');
        await shot(vp, 'viewer-rig');
      });
      await axeStep(vp, 'the rig as a viewer');
      await step('a viewer: every command on the watermaker is disabled, with the reason', async () => {
        await vp.goto(`${URL}/watermaker`);
        await vp.locator('.sensor-cat').first().waitFor();
        await checkCommands('the watermaker', 4, [/^Start$/, /^Stop$/, /^Skip step$/, /^Cancel task$/]);
      });
    } finally { await vi.close(); }

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
    await sim('PUT', '/sim/clock', { time_scale: 1 }).catch(() => {});
    await browser.close();
  }
  for (const f of figures) note(f);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
