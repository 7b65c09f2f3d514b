/** Formatting of run fields for display: durations, times, numbers, params, ids. */
import type { ParamValue, RunSummary } from '../../api/types';

/** The characters of a run id shown in the UI. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** A duration in seconds as "0.4s", "42s", "1m 05s", "2h 03m" or "3d 04h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '—';
  }
  if (seconds < 10) {
    return `${(Math.floor(seconds * 10) / 10).toFixed(1)}s`;
  }
  const total = Math.floor(seconds);
  if (total < 60) {
    return `${total}s`;
  }
  if (total < 3600) {
    return `${Math.floor(total / 60)}m ${pad2(total % 60)}s`;
  }
  if (total < 86400) {
    return `${Math.floor(total / 3600)}h ${pad2(Math.floor((total % 3600) / 60))}m`;
  }
  return `${Math.floor(total / 86400)}d ${pad2(Math.floor((total % 86400) / 3600))}h`;
}

/** The run's duration: the recorded one, or the time since it started while it runs. */
export function runDurationSeconds(
  run: Pick<RunSummary, 'duration_s' | 'started_at' | 'ended_at'>,
  now: number
): number | null {
  if (run.duration_s !== null && run.duration_s !== undefined) {
    return run.duration_s;
  }
  if (run.started_at && !run.ended_at) {
    const started = Date.parse(run.started_at);
    return Number.isNaN(started) ? null : Math.max(0, (now - started) / 1000);
  }
  return null;
}

/** A time as "just now", "5 min ago", "3 h ago", "2 d ago", or a short local date when older. */
export function formatRelativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) {
    return '—';
  }
  const t = Date.parse(iso);
  if (Number.isNaN(t)) {
    return iso;
  }
  const seconds = Math.round((now - t) / 1000);
  if (seconds < 45) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.round(seconds / 3600)} h ago`;
  }
  if (seconds < 7 * 86400) {
    return `${Math.round(seconds / 86400)} d ago`;
  }
  return new Date(t).toLocaleDateString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric'
  });
}

/** A time in the local time zone, in full (for tooltips). */
export function formatLocalTime(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

/** A metric value with at most 4 significant digits ("NaN" and infinities as given). */
export function formatNumber(value: number | string | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e6) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(4)));
}

/** A param value as text ("—" when the run does not have the param). */
export function formatParam(value: ParamValue | undefined): string {
  if (value === undefined) {
    return '—';
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** "k=v, k=v" of a mapping, values formatted by `fmt`. */
export function formatPairs<T>(pairs: Record<string, T>, fmt: (v: T) => string): string {
  return Object.entries(pairs)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(', ');
}

/** The module a run trained: "pkg.name v3", or its entry point's module part. */
export function runModuleLabel(run: Pick<RunSummary, 'entry_point' | 'module_version'>): string {
  if (run.module_version) {
    return `${run.module_version.module} v${run.module_version.version}`;
  }
  const colon = run.entry_point.indexOf(':');
  return colon > 0 ? run.entry_point.slice(0, colon) : run.entry_point;
}

/** A size in bytes as "512 B", "1.5 KiB", "3.2 MiB", "1.1 GiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A git commit as its first 7 characters. */
export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : '';
}

/** One line on where a run ran: its image and engine, or the local Python, and its GPUs. */
export function describeEnvironment(env: Record<string, unknown> | null | undefined): string {
  if (!env) {
    return 'not recorded yet';
  }
  const text = (value: unknown): string => (typeof value === 'string' ? value : '?');
  const image = env.image as Record<string, unknown> | undefined;
  const engine = env.engine as Record<string, unknown> | undefined;
  let where = image
    ? `image ${text(image.tag)} on ${text(engine?.host)}`
    : `Python ${text(env.python)} on ${text(env.hostname)}`;
  const lock = env.lock as { packages?: unknown[] } | undefined;
  if (lock && Array.isArray(lock.packages)) {
    where += `, ${lock.packages.length} locked packages`;
  }
  const gpus = Array.isArray(env.gpus) ? (env.gpus as Record<string, unknown>[]) : [];
  if (gpus.length) {
    where += `, GPUs: ${gpus.map(g => `${text(g.name)} (${String(g.memory_mb)} MiB)`).join(', ')}`;
  }
  return where;
}
