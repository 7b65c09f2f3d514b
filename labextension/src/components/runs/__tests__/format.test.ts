import { describe, expect, it } from 'vitest';
import {
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
