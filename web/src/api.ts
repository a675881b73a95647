// HTTP access to the gateway. Every failure becomes an ApiError whose
// `detail` is the problem document's (RFC 9457, application/problem+json),
// or a sentence saying what went wrong when there is none.

export class ApiError extends Error {
  status: number;
  title: string;
  detail: string;
  constructor(status: number, title: string, detail: string) {
    super(detail);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

type Listener = (e: ApiError) => void;
const unauthorized: Listener[] = [];
/** Called on every 401 (the session expired or was ended elsewhere). */
export function onUnauthorized(fn: Listener) {
  unauthorized.push(fn);
}

const TIMEOUT_MS = 20000;

export async function request<T = any>(method: string, path: string, body?: unknown,
                                       signal?: AbortSignal): Promise<T> {
  // a gateway that does not answer at all is an error too, not a wait forever
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; ctl.abort(); }, TIMEOUT_MS);
  if (signal) {
    if (signal.aborted) ctl.abort();
    else signal.addEventListener('abort', () => ctl.abort(), { once: true });
  }
  try {
    return await send<T>(method, path, body, ctl.signal);
  } catch (e) {
    if (timedOut) throw new ApiError(0, 'No answer', `The gateway did not answer within ${TIMEOUT_MS / 1000} s (${method} ${path}).`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

async function send<T>(method: string, path: string, body: unknown, signal: AbortSignal): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', signal,
    headers: { accept: 'application/json, application/problem+json' } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'No answer', `The gateway did not answer (${method} ${path}): ` +
      'check the network connection to it.');
  }
  const ct = res.headers.get('content-type') || '';
  if (!res.ok) {
    let title = res.statusText || `HTTP ${res.status}`;
    let detail = '';
    try {
      if (ct.includes('json')) {
        const p = await res.json();
        title = p.title || title;
        detail = p.detail || p.message || p.error || '';
      } else {
        detail = (await res.text()).trim().slice(0, 300);
      }
    } catch {
      /* a body that is not what it says: the status is all there is */
    }
    const err = new ApiError(res.status, title, detail || `${title} (HTTP ${res.status})`);
    if (res.status === 401) unauthorized.forEach((fn) => fn(err));
    throw err;
  }
  if (res.status === 204) return null as T;
  if (ct.includes('json')) return res.json();
  return (await res.text()) as unknown as T;
}

export const get = <T = any>(path: string, signal?: AbortSignal) =>
  request<T>('GET', path, undefined, signal);
export const post = <T = any>(path: string, body: unknown = {}) => request<T>('POST', path, body);
export const patch = <T = any>(path: string, body: unknown) => request<T>('PATCH', path, body);

/** The text to show for any error thrown by the calls above. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.detail;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function qs(params: Record<string, string | number | boolean | undefined | null>) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

// ---- shapes of the answers the HMI uses (docs/ringstiff.md, docs/watermaker.md)

export type Role = 'public' | 'viewer' | 'operator' | 'admin';
export interface Me { user: string | null; role: Role }
export interface Machine {
  id: string; name: string; profile: string; driver: string; host: string; port: number;
  simulated?: boolean; default?: boolean; connected: boolean; error?: string;
}

export interface RigLive {
  actual_force: number | null; actual_deflection: number | null; target_deflection: number | null;
  ring_stiffness: number | null; force_at_target: number | null; sn_class: number | null;
  test_status: number | null; test_passed: boolean | null; servo_ready: boolean | null;
  servo_error: boolean | null; at_home: boolean | null; lock_upper: boolean | null;
  lock_lower: boolean | null; actual_position: number | null; enable: boolean | null;
  jog_velocity: number | null; connected: boolean; age_ms: number; ts: number | string;
  machine: string;
}

export interface RigParameters {
  pipe_diameter: number | null; pipe_length: number | null; deflection_percent: number | null;
  test_speed: number | null; max_stroke: number | null; max_force: number | null;
  connected: boolean; age_ms: number;
}

export interface Test {
  id: number; machine_id: string; sample_id: string | null; operator: string | null;
  notes: string | null; test_date: string | null; finished_at: string | null;
  status: 'running' | 'complete' | 'aborted' | 'interrupted'; reason: string | null;
  series_id: number | null; nominal_sn: number | null; pipe_diameter: number | null;
  pipe_length: number | null; deflection_percent: number | null; test_speed: number | null;
  max_stroke: number | null; max_force: number | null; force_at_target: number | null;
  ring_stiffness: number | null; sn_class: number | null; plc_passed: boolean | null;
  method: string | null; wall_thickness: number | null; diameter_calc: number | null;
  target_deflection: number | null; force_at_target_calc: number | null;
  ring_stiffness_calc: number | null; sn_class_calc: number | null; passed: boolean | null;
  mismatch: boolean | null; npoints: number; points_sha256: string | null;
  points?: { timestamp: number; force: number | null; deflection: number | null;
             position: number | null }[];
}
export interface TestList { tests: Test[]; page: number; per_page: number; total: number; pages: number }

export interface Alarm {
  id: number; machine_id: string; code: number; name: string; message: string;
  timestamp: string; acknowledged: boolean; ack_timestamp: string | null; ack_by: string | null;
  test_id: number | null;
}
export interface AlarmList { alarms: Alarm[]; page: number; per_page: number; total: number }

export interface Series {
  series_id: number; ntests: number; mean_ring_stiffness_calc: number | null;
  mean_ring_stiffness: number | null; sn_class: number | null; tests: Test[];
}

export interface WmEntry {
  register: number; pair_register?: number; parameter: string; value: number | null;
  unit: string | null; category: string | null; quality: string; value_text?: string;
  raw?: number; seconds?: number; active?: boolean; expected_start?: number;
  expected_start_s?: number; progress_percent?: number; bit?: number; on?: boolean;
}
export type WmGroup = Record<string, WmEntry>;
export interface WmAll {
  machine: string; connected: boolean; ts: string; age_ms: number;
  mode: { value: number | null; name: string | null };
  system: WmGroup; sensors: WmGroup; timers: WmGroup; outputs: WmGroup; runtime: WmGroup;
  water_counters: WmGroup; rtc: WmGroup;
}
export interface DtsStep { step: number; what: string; state: string; error?: string | null }
export interface DtsTask {
  machine?: string; task_id: string | null; kind?: 'start' | 'stop' | 'skip';
  state: 'running' | 'completed' | 'failed' | 'cancelled' | 'none'; step?: number;
  steps_total?: number; progress?: number; steps?: DtsStep[];
  written?: { register: string; address: number; value: number; timestamp: string }[];
  error?: string | null; requested_by?: string | null; mode_name?: string; created?: string;
  finished?: string | null;
}
export interface DtsProgress {
  mode: number | null; mode_name: string | null; connected: boolean;
  timer: { name: string; register: string; initial_s: number; remaining_s: number | null;
           active: boolean; unit: string } | null;
  progress: number | null; note?: string; task_id: string | null; age_ms: number;
}
export interface R1000Change {
  timestamp: string; from: number | null; from_name?: string | null; to: number;
  to_name?: string | null; external: boolean; task_id?: string | null;
}
export interface R1000Monitor {
  mode: number | null; mode_name: string | null; monitoring_since: string;
  total_changes: number; changes: R1000Change[];
}
export interface WmErrors { count: number; errors: { timestamp: string; what: string; error: string }[] }
