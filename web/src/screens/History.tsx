// The rig's test history: filters in the address (so Back and bookmarks
// keep them), a paginated table, links to each test.
import { useEffect, useState } from 'preact/hooks';
import { get, qs, Machine, TestList } from '../api';
import { loc, navigate } from '../router';
import { on } from '../live';
import { useStore } from '../store';
import { dateTime, num, sn } from '../format';
import { Notice, Pager, useLoad, useTitle } from '../components/ui';
import { MachineTabs } from './common';

const FILTERS = ['from', 'to', 'sample_id', 'operator', 'series_id', 'passed', 'status'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

export function HistoryScreen({ machine }: { machine: Machine }) {
  useTitle(`${machine.name}: history`);
  const l = useStore(loc);
  const base = `/api/machines/${encodeURIComponent(machine.id)}`;
  const q = l.query;
  const page = Math.max(1, Number(q.get('page')) || 1);
  const perPage = [25, 50, 100, 200].includes(Number(q.get('per_page'))) ? Number(q.get('per_page')) : 50;
  const applied: Filters = Object.fromEntries(FILTERS.map((k) => [k, q.get(k) || ''])) as Filters;
  const key = q.toString();
  const [form, setForm] = useState<Filters>(applied);
  useEffect(() => setForm(applied), [key]);

  const { data, error, loading, reload } = useLoad((signal) =>
    get<TestList>(`${base}/tests${qs({ ...applied, page, per_page: perPage })}`, signal), [key]);
  useEffect(() => on('test_complete', () => reload()), []);

  const go = (params: Record<string, string | number>) => {
    const merged: Record<string, string | number> = { ...applied, per_page: perPage === 50 ? '' : perPage, page, ...params };
    if (merged.page === 1) merged.page = '';
    navigate(`/${encodeURIComponent(machine.id)}/history${qs(merged)}`);
  };
  const submit = (e: Event) => { e.preventDefault(); go({ ...form, page: 1 }); };
  const set = (k: keyof Filters) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });

  return (
    <div class="screen">
      <div class="screen-head">
        <h1>{machine.name}: history</h1>
        <MachineTabs machine={machine} current="history" />
      </div>
      <form class="panel filters" onSubmit={submit} role="search" aria-label="Filter the tests">
        <div class="field"><label for="f-from">From</label>
          <input id="f-from" type="date" value={form.from} onInput={set('from')} /></div>
        <div class="field"><label for="f-to">To</label>
          <input id="f-to" type="date" value={form.to} onInput={set('to')} /></div>
        <div class="field"><label for="f-sample">Sample id <span class="muted small">(exact)</span></label>
          <input id="f-sample" value={form.sample_id} onInput={set('sample_id')} autoComplete="off" /></div>
        <div class="field"><label for="f-op">Operator <span class="muted small">(exact)</span></label>
          <input id="f-op" value={form.operator} onInput={set('operator')} autoComplete="off" /></div>
        <div class="field"><label for="f-series">Series</label>
          <input id="f-series" type="number" min="1" step="1" value={form.series_id} onInput={set('series_id')} /></div>
        <div class="field"><label for="f-passed">Verdict</label>
          <select id="f-passed" value={form.passed} onChange={set('passed')}>
            <option value="">Any</option><option value="true">Passed</option><option value="false">Failed</option>
          </select></div>
        <div class="field"><label for="f-status">Status</label>
          <select id="f-status" value={form.status} onChange={set('status')}>
            <option value="">Any</option><option value="complete">Complete</option>
            <option value="aborted">Aborted</option><option value="interrupted">Interrupted</option>
            <option value="running">Running</option>
          </select></div>
        <div class="field field-actions">
          <button type="submit" class="btn btn-primary">Apply</button>
          <button type="button" class="btn" onClick={() => navigate(`/${encodeURIComponent(machine.id)}/history`)}>Clear</button>
        </div>
      </form>

      {error && <Notice kind="error">{error}</Notice>}
      <section class="panel" aria-labelledby="tests-h">
        <div class="panel-head">
          <h2 id="tests-h">Tests {data ? <span class="muted">({data.total})</span> : null}</h2>
          <div class="panel-tools">
            <label for="f-pp" class="inline-label">Per page</label>
            <select id="f-pp" value={String(perPage)} onChange={(e) => go({ per_page: (e.target as HTMLSelectElement).value, page: 1 })}>
              {[25, 50, 100, 200].map((n) => <option key={n} value={String(n)}>{n}</option>)}
            </select>
            <a class="btn btn-small" href={`${base}/report/excel${qs({ ...applied, points: 'false' })}`} download>
              Excel of these tests</a>
          </div>
        </div>
        <div class="table-wrap" aria-busy={loading ? 'true' : undefined}>
          <table class="table">
            <caption class="sr-only">Tests of {machine.name}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th><th scope="col">Started</th><th scope="col">Sample</th>
                <th scope="col" class="wide-only">Operator</th><th scope="col">Status</th>
                <th scope="col" class="num">S ours (kN/m²)</th><th scope="col" class="num wide-only">S PLC (kN/m²)</th>
                <th scope="col">Class</th><th scope="col">Verdict</th><th scope="col">Flags</th>
              </tr>
            </thead>
            <tbody>
              {data?.tests.map((t) => (
                <tr key={t.id}>
                  <td><a href={`/${encodeURIComponent(machine.id)}/tests/${t.id}`}>{t.id}</a></td>
                  <td class="nowrap">{dateTime(t.test_date).slice(0, 16)}</td>
                  <td><a href={`/${encodeURIComponent(machine.id)}/tests/${t.id}`}>{t.sample_id || <span class="muted">(none)</span>}</a></td>
                  <td class="wide-only">{t.operator || '—'}</td>
                  <td><span class={`tag tag-${t.status}`}>{t.status}</span></td>
                  <td class="num">{num(t.ring_stiffness_calc, 3)}</td>
                  <td class="num wide-only">{num(t.ring_stiffness, 3)}</td>
                  <td class="nowrap">{sn(t.sn_class_calc)}</td>
                  <td>{t.passed === null ? '—' : <span class={t.passed ? 'text-ok' : 'text-bad'}>{t.passed ? 'Passed' : 'Failed'}</span>}</td>
                  <td>{[t.mismatch ? 'mismatch' : '', t.series_id ? `series ${t.series_id}` : '', t.reason ? t.reason : '']
                    .filter(Boolean).join(' · ') || '—'}</td>
                </tr>
              ))}
              {data && !data.tests.length && (
                <tr><td colSpan={10} class="empty">No test matches these filters.</td></tr>
              )}
              {!data && loading && <tr><td colSpan={10} class="empty">Loading…</td></tr>}
            </tbody>
          </table>
        </div>
        {data && <Pager page={data.page} pages={data.pages} total={data.total} label="Pages of tests"
          onPage={(p) => go({ page: p })} />}
      </section>
    </div>
  );
}
