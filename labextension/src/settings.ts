/** The extension's settings (schema/plugin.json) read defensively, and path helpers. */
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { Executor } from './model/notebook';

export interface MlopsSettings {
  /** '' means: discover the daemon from MLOPS_HOME. */
  daemonUrl: string;
  autostart: boolean;
  defaultExecutor: Executor;
  runsPerPage: number;
  pollIntervalMs: number;
}

export const DEFAULT_SETTINGS: Readonly<MlopsSettings> = {
  daemonUrl: '',
  autostart: true,
  defaultExecutor: 'auto',
  runsPerPage: 25,
  pollIntervalMs: 1000
};

function int(value: unknown, fallback: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return fallback;
  }
  return Math.min(max, Math.max(min, Math.round(value)));
}

export function readSettings(raw: ReadonlyPartialJSONObject): MlopsSettings {
  const d = DEFAULT_SETTINGS;
  return {
    daemonUrl: typeof raw.daemonUrl === 'string' ? raw.daemonUrl.trim() : d.daemonUrl,
    autostart: typeof raw.autostart === 'boolean' ? raw.autostart : d.autostart,
    defaultExecutor:
      raw.defaultExecutor === 'local' || raw.defaultExecutor === 'docker'
        ? raw.defaultExecutor
        : 'auto',
    runsPerPage: int(raw.runsPerPage, d.runsPerPage, 1, 500),
    pollIntervalMs: int(raw.pollIntervalMs, d.pollIntervalMs, 200, 60000)
  };
}

/**
 * `path` relative to the server root `rootDir`: absolute paths inside the root lose the
 * root, relative paths stay; null for an absolute path outside the root.
 */
export function relativeToRoot(rootDir: string | null, path: string): string | null {
  const isAbsolute = path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path);
  if (!isAbsolute) {
    return path;
  }
  if (!rootDir) {
    return null;
  }
  const root = rootDir.replace(/[\\/]+$/, '');
  if (path === root) {
    return '';
  }
  if (path.startsWith(`${root}/`) || path.startsWith(`${root}\\`)) {
    return path.slice(root.length + 1).replace(/\\/g, '/');
  }
  return null;
}
