import { describe, expect, it } from 'vitest';
import {
  describeEnvironment,
  formatBytes,
  formatDuration,
  formatNumber,
  formatRelativeTime,
  runDurationSeconds,
  runModuleLabel
} from '../format';

describe('format', () => {
  it('formats durations', () => {
    expect(formatDuration(0.42)).toBe('0.4s');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(65)).toBe('1m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(2 * 86400 + 3 * 3600)).toBe('2d 03h');
    expect(formatDuration(null)).toBe('—');
  });

  it('counts a running run from its start', () => {
    const now = Date.parse('2024-05-01T10:02:00Z');
    const run = { duration_s: null, started_at: '2024-05-01T10:00:00Z', ended_at: null };
    expect(runDurationSeconds(run, now)).toBe(120);
    expect(runDurationSeconds({ ...run, started_at: null }, now)).toBeNull();
    expect(runDurationSeconds({ ...run, duration_s: 7 }, now)).toBe(7);
  });

  it('formats times relative to now', () => {
    const now = Date.parse('2024-05-10T12:00:00Z');
    expect(formatRelativeTime('2024-05-10T11:59:50Z', now)).toBe('just now');
    expect(formatRelativeTime('2024-05-10T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelativeTime('2024-05-10T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelativeTime('2024-05-08T12:00:00Z', now)).toBe('2 d ago');
    expect(formatRelativeTime('2024-01-01T12:00:00Z', now)).toMatch(/2024/);
  });

  it('formats numbers, sizes and module labels', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(12)).toBe('12');
    expect(formatNumber(0.00001234)).toBe('1.23e-5');
    expect(formatNumber('NaN')).toBe('NaN');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(runModuleLabel({ entry_point: 'pkg.train:main', module_version: null })).toBe('pkg.train');
    expect(
      runModuleLabel({
        entry_point: 'pkg.train:main',
        module_version: { id: 'm', module: 'pkg.train', version: 2, git_sha: null }
      })
    ).toBe('pkg.train v2');
  });
});

describe('describeEnvironment', () => {
  it('names the image and engine of a container run, its lock and GPUs', () => {
    const env = {
      executor: 'docker',
      image: { tag: 'mlops-env:0123456789abcdef' },
      engine: { host: 'unix:///var/run/docker.sock' },
      lock: { packages: [{ name: 'numpy' }, { name: 'six' }] },
      gpus: [{ name: 'NVIDIA H100 80GB HBM3', memory_mb: 81559 }]
    };
    expect(describeEnvironment(env)).toBe(
      'image mlops-env:0123456789abcdef on unix:///var/run/docker.sock, 2 locked packages, ' +
        'GPUs: NVIDIA H100 80GB HBM3 (81559 MiB)'
    );
  });

  it('names the Python and host of a local run', () => {
    expect(describeEnvironment({ python: '3.11.7', hostname: 'laptop', gpus: [] })).toBe(
      'Python 3.11.7 on laptop'
    );
  });

  it('says when nothing is recorded yet', () => {
    expect(describeEnvironment(null)).toBe('not recorded yet');
  });
});
