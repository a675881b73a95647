// Numbers, dates and names as the screens show them.

export function num(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toFixed(digits);
}

export function int(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return Math.round(v).toLocaleString('en-US');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A timestamp in the panel's local time: 2026-12-07 09:14:02 */
export function dateTime(v: string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function time(v: string | number | null | undefined): string {
  const s = dateTime(v);
  return s.length > 11 ? s.slice(11) : s;
}

export function age(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function duration(a: string | null, b: string | null): string {
  if (!a || !b) return '—';
  const ms = new Date(b).getTime() - new Date(a).getTime();
  return Number.isFinite(ms) ? age(ms) : '—';
}

/** The rig's Test_Status codes (the config's defaults, docs/ringstiff.md) */
export const TEST_STATUS: Record<number, string> = { 0: 'Idle', 1: 'Running', 2: 'Complete', 3: 'Aborted' };
export const testStatusName = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : TEST_STATUS[v] ?? `Code ${v}`;

export const SN_CLASSES = [630, 1250, 2500, 5000, 10000, 20000, 40000];
export const sn = (v: number | null | undefined) =>
  v === null || v === undefined || v === 0 ? '—' : `SN ${v.toLocaleString('en-US')}`;

export const yesNo = (v: boolean | null | undefined, yes = 'Yes', no = 'No') =>
  v === null || v === undefined ? '—' : v ? yes : no;

export const ALARM_NAMES: Record<string, string> = {
  servo_error: 'Servo error', connection_lost: 'Connection lost', max_force: 'Max force',
  max_stroke: 'Max stroke', result_mismatch: 'Result mismatch', test_interrupted: 'Test interrupted',
  recording: 'Recording behind',
};
export const alarmName = (n: string) => ALARM_NAMES[n] ?? n;
