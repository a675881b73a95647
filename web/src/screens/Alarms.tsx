// Every alarm of every machine, newest first: the active ones or all of
// them, and acknowledging (operator).
import { useEffect, useState } from 'preact/hooks';
import { errorText, get, post, qs, AlarmList } from '../api';
import { refreshAlarms } from '../alarms';
import { loc, navigate } from '../router';
import { on } from '../live';
import { useStore } from '../store';
import { alarmName, dateTime } from '../format';
import { CmdButton, Notice, Pager, useLoad, useTitle } from '../components/ui';

export function AlarmsScreen() {
  useTitle('Alarms');
  const l = useStore(loc);
  const page = Math.max(1, Number(l.query.get('page')) || 1);
  const onlyActive = l.query.get('active') === 'true';
  const perPage = 50;
  const { data, error, loading, reload } = useLoad((signal) =>
    get<AlarmList>(`/api/alarms${qs({ page, per_page: perPage, active: onlyActive ? 'true' : '' })}`, signal),
    [page, onlyActive]);
  useEffect(() => on('alarm', () => reload()), []);
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const pages = data ? Math.max(1, Math.ceil(data.total / (data.per_page || perPage))) : 1;

  const go = (p: { page?: number; active?: boolean }) => {
    const a = p.active ?? onlyActive;
    const pg = p.page ?? page;
    navigate(`/alarms${qs({ active: a ? 'true' : '', page: pg > 1 ? pg : '' })}`);
  };

  const ack = async (id: number) => {
    setBusy(id);
    setMsg(null);
    try {
      await post(`/api/alarms/${id}/ack`, {});
      setMsg({ kind: 'ok', text: `Alarm ${id} acknowledged.` });
    } catch (e) {
      setMsg({ kind: 'error', text: `Alarm ${id}: ${errorText(e)}` });
    } finally {
      setBusy(null);
      reload();
      refreshAlarms();
    }
  };

  return (
    <div class="screen">
      <div class="screen-head">
        <h1>Alarms</h1>
        <nav class="tabs" aria-label="Which alarms">
          <a href="/alarms?active=true" aria-current={onlyActive ? 'page' : undefined}>Active</a>
          <a href="/alarms" aria-current={!onlyActive ? 'page' : undefined}>History (all)</a>
        </nav>
      </div>
      <div aria-live="polite">{msg && <Notice kind={msg.kind} onClose={() => setMsg(null)}>{msg.text}</Notice>}</div>
      {error && <Notice kind="error">{error}</Notice>}
      <section class="panel" aria-labelledby="alarms-h">
        <h2 id="alarms-h">{onlyActive ? 'Active alarms' : 'All alarms'} {data ? <span class="muted">({data.total})</span> : null}</h2>
        <div class="table-wrap" aria-busy={loading ? 'true' : undefined}>
          <table class="table">
            <caption class="sr-only">{onlyActive ? 'Alarms not yet acknowledged' : 'Every alarm'}, newest first</caption>
            <thead>
              <tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Machine</th><th scope="col">Alarm</th>
                <th scope="col">Message</th><th scope="col">Test</th><th scope="col">State</th><th scope="col"><span class="sr-only">Action</span></th></tr>
            </thead>
            <tbody>
              {data?.alarms.map((a) => (
                <tr key={a.id} class={a.acknowledged ? '' : 'row-alarm'}>
                  <td>{a.id}</td>
                  <td>{dateTime(a.timestamp)}</td>
                  <td>{a.machine_id}</td>
                  <td><strong>{alarmName(a.name)}</strong> <span class="muted">({a.code})</span></td>
                  <td>{a.message}</td>
                  <td>{a.test_id ? <a href={`/${encodeURIComponent(a.machine_id)}/tests/${a.test_id}`}>{a.test_id}</a> : '—'}</td>
                  <td>{a.acknowledged ? <span>Acknowledged by {a.ack_by || '—'}<br /><span class="muted">{dateTime(a.ack_timestamp)}</span></span>
                    : <span class="text-bad">Active</span>}</td>
                  <td>{!a.acknowledged && (
                    <CmdButton class="btn-small" busy={busy === a.id} onClick={() => ack(a.id)}
                      aria-label={`Acknowledge alarm ${a.id}`}>Acknowledge</CmdButton>)}</td>
                </tr>
              ))}
              {data && !data.alarms.length && <tr><td colSpan={8} class="empty">{onlyActive ? 'No active alarm.' : 'No alarm yet.'}</td></tr>}
              {!data && loading && <tr><td colSpan={8} class="empty">Loading…</td></tr>}
            </tbody>
          </table>
        </div>
        {data && <Pager page={data.page} pages={pages} total={data.total} label="Pages of alarms" onPage={(p) => go({ page: p })} />}
      </section>
    </div>
  );
}
