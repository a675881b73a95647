// watermaker_api.js - the watermaker's data endpoints (src/apps/watermaker/
// data.c) over real HTTP and Socket.IO against `plcgw serve` with the
// simulated watermaker (watermaker_api.sh starts it): every endpoint's
// shape, and its values against what the simulator was told; select and
// its 422s, the category 404, write/register and its refusals, roles, the
// OpenAPI document, live_data. Each check prints "ok - ..." or
// "not ok - ..."; the exit status is the number of failures.
//
// Environment: PLCGW_URL, SIM_URL, OP_TOKEN (an operator), VIEWER_TOKEN (a
// viewer), DEFAULT_MACHINE (the config's default_machine: "rig" runs
// every check at /api/machines/watermaker/..., "watermaker" the
// specification's own paths /api/...), MB_PORT (the simulator's Modbus port).
'use strict';
const { sleep, check, waitFor, simClient, finish } = require('./gwtest');
const assert = require('node:assert');
const { io } = require('socket.io-client');

const URL = process.env.PLCGW_URL;
const SIM = process.env.SIM_URL;
const OP = process.env.OP_TOKEN;
const VIEWER = process.env.VIEWER_TOKEN;
const DEFAULT = process.env.DEFAULT_MACHINE || 'rig';
const TOP = DEFAULT === 'watermaker';
// the watermaker's paths: the specification's own when it is the default
const W = TOP ? '/api' : '/api/machines/watermaker';



async function api(method, p, body, token = OP) {
  const opt = { method, headers: token ? { Authorization: `Bearer ${token}` } : {} };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(URL + p, opt);
  const text = await res.text();
  let data = text;
  try { data = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, data, type: res.headers.get('content-type') || '' };
}

async function get(p) {
  const r = await api('GET', p);
  assert.strictEqual(r.status, 200, `GET ${p}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

const sim = simClient(SIM);

async function setProp(name, value) {
  const r = await sim('PUT', `/sim/devices/watermaker/properties/${encodeURIComponent(name)}`, { value });
  assert.strictEqual(r.status, 200, `sim ${name} = ${value}: ${JSON.stringify(r.data)}`);
}

async function setIo(name, value) {
  const r = await sim('PUT', `/sim/devices/watermaker/ios/${encodeURIComponent(name)}`, { value });
  assert.strictEqual(r.status, 200, `sim io ${name} = ${value}: ${JSON.stringify(r.data)}`);
}

// The write log's next sequence number (its entries have seq >= since).
async function nextWriteSeq() {
  const w = (await sim('GET', '/sim/writes?since=0')).data;
  return w.length ? w[w.length - 1].seq + 1 : 0;
}

async function writesSince(seq) {
  return (await sim('GET', `/sim/writes?since=${seq}`)).data.filter((w) => w.device === 'watermaker');
}

// The specification's tables (seed 002): register -> name, by group.
const SPEC = {
  system: { 1000: 'System Mode', 1036: 'System Status', 71: 'Control Command', 67: 'Step Skip Command' },
  sensors: {
    1003: 'Feed Pressure', 1007: 'High Pressure #2', 1008: 'High Pressure #1', 1017: 'Water Temperature',
    1125: 'System Temperature', 1120: 'Brine Flowmeter', 1121: '1st Pass Product Flowmeter',
    1122: '2nd Pass Product Flowmeter', 1123: 'Product TDS #1', 1124: 'Product TDS #2',
  },
  timers: {
    136: 'FWF Flush Timer', 138: 'DTS Valve Positioning Timer', 128: 'DTS Priming Timer', 129: 'DTS Initialize Timer',
    133: 'DTS Fresh Water Flush Timer', 135: 'DTS Stop Timer', 139: 'DTS Flush Timer',
  },
  outputs: {
    257: 'Low Pressure Pump', 258: 'High Pressure Pump', 259: 'Product Divert Valve', 260: 'Flush Solenoid',
    264: 'Double Pass Solenoid', 265: 'Shore Feed Solenoid',
  },
  runtime: { 5014: 'Runtime Hours' },
  water_counters: {
    5024: 'Single-Pass Total Gallons', 5026: 'Single-Pass Since Last', 5028: 'Double-Pass Total Gallons',
    5030: 'Double-Pass Since Last', 5032: 'DTS Total Gallons', 5034: 'DTS Since Last Gallons',
  },
  rtc: { 513: 'RTC Minutes', 514: 'RTC Seconds', 516: 'RTC Year', 517: 'RTC Month', 518: 'RTC Day', 519: 'RTC Month (Alt)' },
};
const TIMER_START = { 136: 600, 138: 150, 128: 1800, 129: 600, 133: 600, 135: 100, 139: 600 };
const OUTPUT_BIT = { 257: 0, 258: 1, 259: 2, 260: 3, 264: 7, 265: 8 };
// The tag map's units by parameter (GET /api/machines/watermaker), filled first.
const UNIT = {};
const GROUPS = ['system', 'sensors', 'timers', 'outputs', 'runtime', 'water_counters', 'rtc'];
const CATEGORIES = ['system', 'pressure', 'temperature', 'flow', 'quality'];

const key = (p) => p.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');

function stamped(b) {
  assert.strictEqual(b.machine, 'watermaker');
  assert.strictEqual(b.connected, true);
  assert.ok(typeof b.ts === 'string' && !Number.isNaN(Date.parse(b.ts)), `ts ${b.ts}`);
  assert.ok(Number.isInteger(b.age_ms) && b.age_ms >= 0 && b.age_ms < 10000, `age_ms ${b.age_ms}`);
}

// Every register of the specification's group, with the entry's shape.
function hasGroup(entries, group) {
  for (const [reg, name] of Object.entries(SPEC[group])) {
    const e = entries[key(name)];
    assert.ok(e, `${group} lacks ${key(name)} (${name})`);
    assert.strictEqual(e.register, Number(reg), `${name}'s register`);
    assert.strictEqual(e.parameter, name);
    assert.strictEqual(e.quality, 'good', `${name}: ${e.quality}`);
    assert.ok(typeof e.value === 'number', `${name}: value ${e.value}`);
    assert.strictEqual(e.unit, UNIT[name], `${name}'s unit`);
  }
}

// The mode and system status, from /all: the status route is checked on its own.
async function state() {
  const a = await get(`${W}/all`);
  return { connected: a.connected, mode: a.mode, status: a.system.system_status };
}

async function main() {
  for (const t of (await get('/api/machines/watermaker')).tag_map) UNIT[t.parameter] = t.unit === undefined ? null : t.unit;

  await check(`${W}/status: connection, mode with its name, system status with its meaning`, async () => {
    const b = await waitFor('the watermaker\'s status', async () => {
      const r = await api('GET', `${W}/status`);
      if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.data)}`);
      return r.data.connected && r.data.mode && r.data.mode.value !== null && r.data;
    });
    stamped(b);
    assert.deepStrictEqual(b.mode, { value: 2, name: 'Home/Standby' });
    assert.deepStrictEqual(b.system_status, { value: 0, meaning: 'Standby' });
    assert.strictEqual(b.api_version, '1.1');
    assert.strictEqual(b.host, '127.0.0.1');
    assert.strictEqual(b.port, Number(process.env.MB_PORT));
    assert.strictEqual(b.unit, 1);
    return JSON.stringify(b);
  });

  await check('/api/machines/watermaker/status answers for the watermaker whatever the default', async () => {
    const b = await get('/api/machines/watermaker/status');
    stamped(b);
    assert.strictEqual(b.mode.name, 'Home/Standby');
  });

  await check('/api/status and /api/machines/rig/status answer for the rig as before', async () => {
    const rig = await get('/api/machines/rig/status');
    assert.strictEqual(rig.machine, 'rig');
    assert.ok('actual_force' in rig && 'test_status' in rig, JSON.stringify(rig));
    const top = await get('/api/status');
    assert.strictEqual(top.machine, DEFAULT);
    if (!TOP) assert.ok('actual_force' in top, JSON.stringify(top));
    else assert.ok('mode' in top && !('actual_force' in top), JSON.stringify(top));
  });

  if (!TOP) {
    await check('the top-level watermaker paths, with the rig the default, are 404 naming why', async () => {
      for (const p of ['/api/sensors', '/api/all', '/api/timers/dts']) {
        const r = await api('GET', p);
        assert.strictEqual(r.status, 404, `${p}: ${r.status}`);
        assert.match(r.data.detail, /rig is a ringstiff, not a watermaker/);
      }
    });
  } else {
    await check('the rig\'s top-level paths, with the watermaker the default, are 404 naming why', async () => {
      const r = await api('GET', '/api/parameters');
      assert.strictEqual(r.status, 404, JSON.stringify(r.data));
      assert.match(r.data.detail, /not a ring-stiffness rig/);
    });
  }

  await check('a mode set in the simulator reads back with its name, outputs and sensors', async () => {
    await setProp('System Mode', 7);
    const b = await waitFor('mode 7', async () => {
      const s = await state();
      return s.mode.value === 7 && s;
    });
    assert.strictEqual(b.mode.name, 'DTS Running/Production');
    const active = await waitFor('the production outputs', async () => {
      const a = await get(`${W}/outputs/active`);
      return a.outputs.high_pressure_pump && a.outputs.product_divert_valve && a;
    });
    stamped(active);
    for (const e of Object.values(active.outputs)) assert.strictEqual(e.on, true, JSON.stringify(e));
    assert.strictEqual(active.count, Object.keys(active.outputs).length);
    // the simulated high pressure settles at 800 PSI (with a little noise)
    const hp = await waitFor('the high pressure', async () => {
      const e = (await get(`${W}/sensors/category/pressure`)).sensors.high_pressure_1;
      return Math.abs(e.value - 800) <= 15 && e;
    });
    assert.strictEqual(hp.unit, UNIT['High Pressure #1']);
    await setProp('System Mode', 2);
    await waitFor('standby', async () => (await state()).mode.value === 2);
    return `active outputs in production: ${Object.keys(active.outputs).join(', ')}`;
  });

  await check('sensors: every one of the specification, scaled, with its unit and raw value', async () => {
    // registers the simulated process leaves alone, and a sensor forced by its I/O
    await setProp('Product TDS #2', 321);
    await setProp('2nd Pass Product Flowmeter', 3.7);
    await setIo('water_temp_F', 71.3);
    const b = await waitFor('the sensors set', async () => {
      const s = await get(`${W}/sensors`);
      return s.sensors.product_tds_2.value === 321 && s.sensors['2nd_pass_product_flowmeter'].value === 3.7 &&
        s.sensors.water_temperature.value === 71.3 && s;
    });
    stamped(b);
    hasGroup(b.sensors, 'sensors');
    assert.strictEqual(b.count, Object.keys(b.sensors).length);
    assert.strictEqual(b.sensors['2nd_pass_product_flowmeter'].raw, 37);
    assert.strictEqual(b.sensors.water_temperature.raw, 713);
    assert.strictEqual(b.sensors.product_tds_2.category, 'quality');
    assert.ok(!('raw' in b.sensors.product_tds_2), 'an unscaled sensor has no raw');
    assert.strictEqual(b.sensors.system_mode.value_text, 'Home/Standby');
    return `water_temperature ${JSON.stringify(b.sensors.water_temperature)}`;
  });

  await check('sensors/category/{category}: each of the five, and together all the sensors', async () => {
    const all = (await get(`${W}/sensors`)).sensors;
    const seen = new Set();
    for (const c of CATEGORIES) {
      const b = await get(`${W}/sensors/category/${c}`);
      stamped(b);
      assert.strictEqual(b.category, c);
      assert.ok(b.count > 0, `${c} is empty`);
      for (const [k, e] of Object.entries(b.sensors)) {
        assert.strictEqual(e.category, c, `${k} in ${c}`);
        seen.add(k);
      }
    }
    assert.deepStrictEqual([...seen].sort(), Object.keys(all).sort());
    const sys = (await get(`${W}/sensors/category/system`)).sensors;
    assert.ok(sys.system_mode && sys.system_status, JSON.stringify(sys));
  });

  await check('sensors/category/{unknown} is 404 naming the valid categories', async () => {
    const r = await api('GET', `${W}/sensors/category/salinity`);
    assert.strictEqual(r.status, 404);
    assert.ok(r.type.startsWith('application/problem+json'), r.type);
    for (const c of CATEGORIES) assert.ok(r.data.detail.includes(c), r.data.detail);
    return r.data.detail;
  });

  await check('write/register: R1000 = 8 is written, in the simulator\'s write log, and starts the flush', async () => {
    const seq = await nextWriteSeq();
    const r = await api('POST', `${W}/write/register`, { register: 1000, value: 8 });
    assert.strictEqual(r.status, 200, JSON.stringify(r.data));
    assert.deepStrictEqual(r.data, { machine: 'watermaker', written: ['System Mode'] });
    const w = await writesSince(seq);
    assert.strictEqual(w.length, 1, JSON.stringify(w));
    assert.strictEqual(w[0].parameter, 'System Mode');
    assert.strictEqual(w[0].address, '41000');
    assert.strictEqual(w[0].after, 8);
    const s = await waitFor('mode 8', async () => {
      const b = await state();
      return b.mode.value === 8 && b.status.value === 5 && b;
    });
    assert.strictEqual(s.mode.name, 'Fresh Water Flush');
    assert.strictEqual(s.status.value_text, 'FWF');
    return JSON.stringify(w[0]);
  });

  await check('timers, timers/dts, timers/fwf: raw, seconds, active, expected start, progress', async () => {
    const b = await waitFor('the flush timer running', async () => {
      const t = await get(`${W}/timers`);
      return t.timers.dts_fresh_water_flush_timer.active && t;
    });
    stamped(b);
    hasGroup(b.timers, 'timers');
    for (const [reg, name] of Object.entries(SPEC.timers)) {
      const t = b.timers[key(name)];
      assert.strictEqual(t.expected_start, TIMER_START[reg], name);
      assert.strictEqual(t.expected_start_s, TIMER_START[reg] / 10, name);
      assert.strictEqual(t.unit, UNIT[name]);
      assert.strictEqual(t.seconds, t.raw / 10, `${name}: ${JSON.stringify(t)}`);
      assert.strictEqual(t.value, t.seconds);
      assert.strictEqual(t.active, t.raw !== 65535, name);
      const want = t.raw === 65535 ? 0 : t.raw === 0 ? 100 : (TIMER_START[reg] - t.raw) / TIMER_START[reg] * 100;
      assert.ok(Math.abs(t.progress_percent - Math.min(100, Math.max(0, want))) <= 0.051,
        `${name}: progress ${t.progress_percent}, want ${want}`);
    }
    const f = b.timers.dts_fresh_water_flush_timer;
    assert.ok(f.raw > 0 && f.raw <= 600, JSON.stringify(f));
    const idle = b.timers.dts_priming_timer;
    assert.deepStrictEqual([idle.raw, idle.active, idle.progress_percent], [65535, false, 0]);
    const dts = await get(`${W}/timers/dts`);
    assert.strictEqual(dts.category, 'dts_timer');
    assert.deepStrictEqual(Object.keys(dts.timers).sort(),
      Object.keys(b.timers).filter((k) => b.timers[k].category === 'dts_timer').sort());
    assert.ok(!dts.timers.fwf_flush_timer);
    const fwf = await get(`${W}/timers/fwf`);
    assert.deepStrictEqual(Object.keys(fwf.timers), ['fwf_flush_timer']);
    assert.strictEqual(fwf.count, 1);
    return `flush: ${JSON.stringify(f)}`;
  });

  await check('outputs: each with its register, the specification\'s bit, on/off; outputs/active only those on', async () => {
    const b = await waitFor('the flush outputs', async () => {
      const o = await get(`${W}/outputs`);
      return o.outputs.flush_solenoid.on && o;
    });
    stamped(b);
    hasGroup(b.outputs, 'outputs');
    for (const [reg, name] of Object.entries(SPEC.outputs)) {
      const o = b.outputs[key(name)];
      assert.strictEqual(o.bit, OUTPUT_BIT[reg], name);
      assert.strictEqual(o.on, o.value !== 0, name);
      assert.strictEqual(o.value_text, o.on ? 'On' : 'Off');
    }
    assert.strictEqual(b.outputs.high_pressure_pump.on, false);
    const a = await get(`${W}/outputs/active`);
    const on = Object.keys(b.outputs).filter((k) => b.outputs[k].on).sort();
    assert.deepStrictEqual(Object.keys(a.outputs).sort(), on);
    assert.ok(on.includes('flush_solenoid') && on.includes('low_pressure_pump'), on.join());
    return `on: ${on.join(', ')}`;
  });

  await check('write/register R1000 = 2 goes back to standby', async () => {
    const r = await api('POST', `${W}/write/register`, { register: 1000, value: 2 });
    assert.strictEqual(r.status, 200, JSON.stringify(r.data));
    await waitFor('standby', async () => (await state()).mode.value === 2);
  });

  await check('write/register refusals are 422 naming what is allowed, and write nothing', async () => {
    const seq = await nextWriteSeq();
    const cases = [
      [{ register: 9999, value: 1 }, /register 9999 is not in the tag map.*writable registers are .*1000 \(System Mode\)/],
      [{ register: 1003, value: 1 }, /register 1003 \(Feed Pressure\) is read-only.*writable registers/],
      [{ register: 5015, value: 1 }, /part of Runtime Hours/],
      [{ register: 1000, value: 70000 }, /"value" must be an integer 0\.\.65535.*got 70000/],
      [{ register: 1000, value: -1 }, /0\.\.65535.*got -1/],
      [{ register: 1000, value: 1.5 }, /0\.\.65535.*got 1\.5/],
      [{ register: 1000, value: '5' }, /0\.\.65535.*got a string/],
      [{ register: '1000', value: 5 }, /"register" must be a holding register number/],
      [{ value: 5 }, /needs "register"/],
      [{ register: 1000 }, /needs "value"/],
      [{}, /needs "register"/],
      [{ register: 1000, value: 5, unit: 2 }, /unknown member "unit"/],
    ];
    for (const [body, want] of cases) {
      const r = await api('POST', `${W}/write/register`, body);
      assert.strictEqual(r.status, 422, `${JSON.stringify(body)}: ${r.status} ${JSON.stringify(r.data)}`);
      assert.match(r.data.detail, want, JSON.stringify(body));
    }
    const bad = await api('POST', `${W}/write/register`, '{"register": 1000,');
    assert.strictEqual(bad.status, 400);
    assert.deepStrictEqual(await writesSince(seq), []);
    return `${cases.length} bodies refused`;
  });

  await check('write/register needs the operator role: none 401, a viewer 403', async () => {
    const seq = await nextWriteSeq();
    const anon = await api('POST', `${W}/write/register`, { register: 1000, value: 2 }, null);
    assert.strictEqual(anon.status, 401, JSON.stringify(anon.data));
    const viewer = await api('POST', `${W}/write/register`, { register: 1000, value: 2 }, VIEWER);
    assert.strictEqual(viewer.status, 403, JSON.stringify(viewer.data));
    assert.match(viewer.data.detail, /needs the operator role/);
    assert.deepStrictEqual(await writesSince(seq), []);
    const read = await api('GET', `${W}/sensors`, undefined, VIEWER);
    assert.strictEqual(read.status, 200, 'a viewer reads');
  });

  await check('runtime: hours as a 32-bit float pair', async () => {
    await setProp('Runtime Hours', 98765.4);
    const b = await waitFor('runtime hours', async () => {
      const r = await get(`${W}/runtime`);
      return r.runtime.runtime_hours.value === 98765.4 && r;
    });
    stamped(b);
    hasGroup(b.runtime, 'runtime');
    const h = b.runtime.runtime_hours;
    assert.deepStrictEqual([h.register, h.pair_register, h.unit, h.category], [5014, 5015, 'hours', 'runtime']);
    return JSON.stringify(h);
  });

  await check('water_counters: the six gallon totals', async () => {
    // the double-pass counters are not simulated: what is set stays
    await setProp('Double-Pass Total Gallons', 4321.25);
    await setProp('Double-Pass Since Last', 17);
    const b = await waitFor('the counters', async () => {
      const r = await get(`${W}/water_counters`);
      return r.water_counters.double_pass_total_gallons.value === 4321.25 &&
        r.water_counters.double_pass_since_last.value === 17 && r;
    });
    stamped(b);
    hasGroup(b.water_counters, 'water_counters');
    for (const [reg, name] of Object.entries(SPEC.water_counters)) {
      const c = b.water_counters[key(name)];
      assert.strictEqual(c.pair_register, Number(reg) + 1, name);
      assert.strictEqual(c.category, 'water_counters', name);
    }
    assert.strictEqual(b.count, 6);
  });

  await check('rtc: the fields, and the date they make', async () => {
    // the simulated PLC's clock is the simulation's: today, ticking
    const b = await waitFor('the clock', async () => {
      const r = await get(`${W}/rtc`);
      return r.valid && r;
    });
    stamped(b);
    hasGroup(b.rtc, 'rtc');
    const v = (n) => String(b.rtc[n].value).padStart(2, '0');
    assert.strictEqual(b.date, `${b.rtc.rtc_year.value}-${v('rtc_month')}-${v('rtc_day')}`);
    assert.ok(Math.abs(Date.parse(b.date) - Date.now()) < 2 * 86400e3, `date ${b.date}`);
    assert.ok(b.datetime === null || b.datetime.startsWith(`${b.date}T`), b.datetime);
    assert.ok(b.rtc.rtc_minutes.value >= 0 && b.rtc.rtc_minutes.value < 60);
    assert.strictEqual(b.rtc.rtc_month_alt.value, b.rtc.rtc_month.value);
    return `date ${b.date}, datetime ${b.datetime}`;
  });

  await check('all: every group of the specification, each complete', async () => {
    const b = await get(`${W}/all`);
    stamped(b);
    for (const g of GROUPS) hasGroup(b[g], g);
    assert.deepStrictEqual(b.mode, { value: 2, name: 'Home/Standby' });
    assert.deepStrictEqual(Object.keys(b).filter((k) => !['machine', 'connected', 'ts', 'age_ms', 'mode'].includes(k)), GROUPS);
    assert.strictEqual(b.system.system_status.value_text, 'Standby');
    assert.strictEqual(b.timers.dts_priming_timer.expected_start, 1800);
    return `${GROUPS.map((g) => `${g} ${Object.keys(b[g]).length}`).join(', ')}`;
  });

  await check('select: only the groups and keys asked for', async () => {
    const g = await get(`${W}/select?groups=timers,rtc`);
    stamped(g);
    assert.deepStrictEqual(Object.keys(g).filter((k) => !['machine', 'connected', 'ts', 'age_ms'].includes(k)).sort(), ['rtc', 'timers']);
    hasGroup(g.timers, 'timers');
    const k = await get(`${W}/select?keys=feed_pressure,${encodeURIComponent('Product TDS #2')},SYSTEM_MODE`);
    assert.deepStrictEqual(Object.keys(k.values).sort(), ['feed_pressure', 'product_tds_2', 'system_mode']);
    assert.ok(!k.sensors && !k.timers, 'no group asked');
    assert.strictEqual(k.values.product_tds_2.value, 321);
    assert.strictEqual(k.values.feed_pressure.register, 1003);
    const both = await get(`${W}/select?groups=outputs&keys=dts_priming_timer`);
    hasGroup(both.outputs, 'outputs');
    assert.strictEqual(both.values.dts_priming_timer.expected_start, 1800);
    assert.deepStrictEqual(Object.keys(both.values), ['dts_priming_timer']);
  });

  await check('select: an unknown group or key is 422 naming the valid ones; nothing asked is 422', async () => {
    const g = await api('GET', `${W}/select?groups=sensors,pumps`);
    assert.strictEqual(g.status, 422);
    assert.match(g.data.detail, /unknown group "pumps"/);
    for (const name of GROUPS) assert.ok(g.data.detail.includes(name), g.data.detail);
    const k = await api('GET', `${W}/select?keys=feed_presure`);
    assert.strictEqual(k.status, 422);
    assert.match(k.data.detail, /unknown key "feed_presure" \(like it: .*feed_pressure/);
    assert.match(k.data.detail, /config lists every key/);
    const none = await api('GET', `${W}/select`);
    assert.strictEqual(none.status, 422);
    assert.match(none.data.detail, /groups=.*keys=/);
    return k.data.detail;
  });

  await check('errors: the last errors as a list', async () => {
    const b = await get(`${W}/errors`);
    assert.strictEqual(b.machine, 'watermaker');
    assert.ok(Array.isArray(b.errors) && b.errors.length <= 10, JSON.stringify(b));
    assert.strictEqual(b.count, b.errors.length);
  });

  await check('a write/register the PLC does not take is 503 and in errors', async () => {
    assert.strictEqual((await sim('POST', '/sim/frontends/modbus/stop')).status, 200);
    try {
      await waitFor('the watermaker disconnected', async () => (await state()).connected === false);
      const r = await api('POST', `${W}/write/register`, { register: 71, value: 0 });
      assert.ok([502, 503, 504].includes(r.status), `${r.status} ${JSON.stringify(r.data)}`);
      const e = await get(`${W}/errors`);
      assert.ok(e.count >= 1 && e.errors.length === e.count, JSON.stringify(e));
      assert.match(e.errors[0].what, /write R71 \(Control Command\) = 0/);
      assert.match(e.errors[0].error, new RegExp(`HTTP ${r.status}`));
      assert.ok(!Number.isNaN(Date.parse(e.errors[0].timestamp)), e.errors[0].timestamp);
      return JSON.stringify(e.errors[0]);
    } finally {
      assert.strictEqual((await sim('POST', '/sim/frontends/modbus/start')).status, 200);
      await waitFor('the watermaker back', async () => (await state()).connected, 20000);
    }
  });

  await check('config: connection, scan groups, registers, keys, and the endpoints that answer', async () => {
    const b = await get(`${W}/config`);
    const m = await get('/api/machines/watermaker');
    assert.strictEqual(b.machine, 'watermaker');
    assert.strictEqual(b.api_version, '1.1');
    assert.deepStrictEqual([b.host, b.port, b.unit], ['127.0.0.1', Number(process.env.MB_PORT), 1]);
    assert.strictEqual(b.default, TOP);
    assert.strictEqual(b.registers, m.tag_map.length);
    const scan = Object.fromEntries(b.scan_groups.map((g) => [g.name, g.interval_ms]));
    assert.deepStrictEqual(scan, m.scan);
    assert.strictEqual(b.scan_groups.reduce((n, g) => n + g.registers, 0), b.registers);
    for (const r of [67, 71, 1000]) assert.ok(b.writable_registers.includes(r), `writable ${r}`);
    assert.ok(!b.writable_registers.includes(1003));
    assert.deepStrictEqual(b.groups, GROUPS);
    assert.deepStrictEqual(b.sensor_categories, CATEGORIES);
    assert.deepStrictEqual(b.keys.feed_pressure, { parameter: 'Feed Pressure', register: 1003, groups: ['sensors'] });
    const paths = b.endpoints.map((e) => `${e.method} ${e.path}`);
    for (const p of ['GET /api/machines/watermaker/sensors/category/{category}', 'POST /api/machines/watermaker/write/register',
      'GET /api/machines/watermaker/status'])
      assert.ok(paths.includes(p), `${p} not in ${paths.join(', ')}`);
    assert.strictEqual(paths.includes('GET /api/sensors'), TOP, 'the top-level paths only for the default');
    const w = b.endpoints.find((e) => e.path.endsWith('/write/register'));
    assert.strictEqual(w.role, 'operator');
    return `${b.endpoints.length} endpoints, ${b.registers} registers`;
  });

  await check('OpenAPI: every data route at both paths, its role, schema and example', async () => {
    const doc = await get('/openapi.json');
    const schemas = doc.components.schemas;
    const routes = [['get', 'status'], ['get', 'all'], ['get', 'select'], ['get', 'errors'], ['get', 'config'],
      ['post', 'write/register'], ['get', 'sensors'], ['get', 'sensors/category/{category}'], ['get', 'timers'],
      ['get', 'timers/dts'], ['get', 'timers/fwf'], ['get', 'rtc'], ['get', 'outputs'], ['get', 'outputs/active'],
      ['get', 'runtime'], ['get', 'water_counters']];
    for (const [method, p] of routes) {
      for (const full of [`/api/machines/{id}/${p}`, `/api/${p}`]) {
        const op = doc.paths[full] && doc.paths[full][method];
        assert.ok(op, `${method} ${full} is not in the document`);
        assert.strictEqual(op['x-plcgw-role'], method === 'post' ? 'operator' : 'viewer', full);
        // a path of two apps (status: the rig's and ours) has both, oneOf
        const sc = op.responses['200'].content['application/json'].schema;
        for (const ref of sc.oneOf ? sc.oneOf.map((x) => x.$ref) : [sc.$ref]) {
          const name = ref.split('/').pop();
          assert.ok(schemas[name], `${full}: no component ${name}`);
          assert.ok(schemas[name].example, `${name} has no example`);
        }
      }
    }
    const sel = doc.paths['/api/machines/{id}/select'].get.parameters.map((x) => x.name);
    assert.ok(sel.includes('groups') && sel.includes('keys'), sel.join());
    assert.strictEqual(doc.paths['/api/select'].get.responses['422'].content['application/problem+json'].schema.$ref,
      '#/components/schemas/Problem');
    const body = doc.paths['/api/machines/{id}/write/register'].post.requestBody.content['application/json'].schema;
    assert.deepStrictEqual(body.required, ['register', 'value']);
    assert.ok(body.example, 'the write body has an example');
    return `${routes.length * 2} operations`;
  });

  await check('live_data of the watermaker: mode, sensors, timers with progress, outputs', async () => {
    const sock = io(URL, { auth: { token: OP }, transports: ['websocket'], reconnection: false });
    try {
      await new Promise((res, rej) => { sock.on('connect', res); sock.on('connect_error', rej); });
      const got = new Promise((res) => sock.on('live_data', (d) => { if (d.machine === 'watermaker') res(d); }));
      const ack = await sock.timeout(5000).emitWithAck('subscribe', { machine: 'watermaker' });
      assert.strictEqual(ack.ok, true, JSON.stringify(ack));
      const d = await Promise.race([got, sleep(5000).then(() => { throw new Error('no live_data in 5 s'); })]);
      assert.strictEqual(d.connected, true);
      assert.deepStrictEqual(d.mode, { value: 2, name: 'Home/Standby' });
      assert.deepStrictEqual(d.system_status, { value: 0, meaning: 'Standby' });
      assert.strictEqual(d.sensors.product_tds_2, 321);
      assert.strictEqual(d.sensors.water_temperature, 71.3);
      assert.ok(!('system_mode' in d.sensors), 'the mode is its own member');
      const t = d.timers.dts_priming_timer;
      assert.deepStrictEqual(t, { seconds: 6553.5, active: false, progress: 0 });
      for (const name of Object.values(SPEC.outputs)) assert.strictEqual(typeof d.outputs[key(name)], 'boolean', name);
      return `${Object.keys(d.sensors).length} sensors, ${Object.keys(d.timers).length} timers, ${Object.keys(d.outputs).length} outputs`;
    } finally {
      sock.close();
    }
  });
}

finish(main);
