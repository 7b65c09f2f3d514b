import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../components/highlight';
import { paramKind, parseParam } from '../model/params';
import { readSettings, relativeToRoot } from '../settings';

describe('tokenize', () => {
  it('colours Python and keeps the text intact', () => {
    const source =
      '@dataclass\nclass Cfg:\n    lr: float = 1e-3  # rate\n    name = f"run {x}"\n' +
      'def main(seed=0):\n    return sorted([0x1F, 2.5j])\n';
    const tokens = tokenize(source);
    expect(tokens.map(t => t.text).join('')).toBe(source);
    const of = (kind: string): string[] => tokens.filter(t => t.kind === kind).map(t => t.text);
    expect(of('decorator')).toEqual(['@dataclass']);
    expect(of('keyword')).toEqual(['class', 'def', 'return']);
    expect(of('def')).toEqual(['Cfg', 'main']);
    expect(of('number')).toEqual(['1e-3', '0', '0x1F', '2.5j']);
    expect(of('string')).toEqual(['f"run {x}"']);
    expect(of('comment')).toEqual(['# rate']);
    expect(of('builtin')).toEqual(['float', 'sorted']);
  });

  it('handles triple-quoted and unterminated strings', () => {
    const source = 'x = """a\n"b"\n"""\ny = \'oops';
    const tokens = tokenize(source);
    expect(tokens.map(t => t.text).join('')).toBe(source);
    expect(tokens.filter(t => t.kind === 'string').map(t => t.text)).toEqual([
      '"""a\n"b"\n"""',
      "'oops"
    ]);
  });
});

describe('params', () => {
  it('maps Python type names to input kinds', () => {
    expect(paramKind('int')).toBe('int');
    expect(paramKind('Optional[float]')).toBe('float');
    expect(paramKind('bool | None')).toBe('bool');
    expect(paramKind('list[int]')).toBe('other');
  });

  it('parses values, leaves empty ones to the default, and rejects bad numbers', () => {
    expect(parseParam('epochs', 'int', ' 12 ')).toBe(12);
    expect(parseParam('lr', 'float', '1e-3')).toBe(0.001);
    expect(parseParam('lr', 'float', '')).toBeUndefined();
    expect(parseParam('name', 'str', '')).toBeUndefined();
    expect(parseParam('name', 'str', ' a ')).toBe(' a ');
    expect(() => parseParam('epochs', 'int', '1.5')).toThrow('epochs must be a whole number');
    expect(() => parseParam('lr', 'float', 'fast')).toThrow('lr must be a number');
  });
});

describe('settings', () => {
  it('reads settings with defaults and bounds', () => {
    expect(readSettings({})).toEqual({
      daemonUrl: '',
      autostart: true,
      defaultExecutor: 'auto',
      runsPerPage: 25,
      pollIntervalMs: 1000
    });
    expect(
      readSettings({ daemonUrl: ' http://127.0.0.1:1 ', defaultExecutor: 'local', runsPerPage: 9000 })
    ).toMatchObject({ daemonUrl: 'http://127.0.0.1:1', defaultExecutor: 'local', runsPerPage: 500 });
  });

  it('makes notebook paths relative to the server root', () => {
    expect(relativeToRoot('/srv/root', '/srv/root/a/b.ipynb')).toBe('a/b.ipynb');
    expect(relativeToRoot('/srv/root/', '/srv/root/b.ipynb')).toBe('b.ipynb');
    expect(relativeToRoot('/srv/root', 'b.ipynb')).toBe('b.ipynb');
    expect(relativeToRoot('/srv/root', '/srv/rootless/b.ipynb')).toBeNull();
    expect(relativeToRoot(null, '/srv/root/b.ipynb')).toBeNull();
  });
});

describe('gen-types', { timeout: 60000 }, () => {
  const script = join(__dirname, '..', '..', 'scripts', 'gen-types.mjs');
  const doc = (field: string): object => ({
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    paths: {},
    components: {
      schemas: {
        Thing: { type: 'object', properties: { [field]: { type: 'string' } }, required: [field] }
      }
    }
  });
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

  it('writes the types and --check exits 1 once the document changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gen-types-'));
    const input = join(dir, 'openapi.json');
    const output = join(dir, 'schema.ts');
    writeFileSync(input, JSON.stringify(doc('name')));
    expect(run('--input', input, '--output', output).status).toBe(0);
    const text = readFileSync(output, 'utf8');
    expect(text).toContain('GENERATED FILE - DO NOT EDIT');
    expect(text).toMatch(/Thing: \{\s*name: string;/);
    expect(run('--check', '--input', input, '--output', output).status).toBe(0);

    writeFileSync(input, JSON.stringify(doc('title')));
    const stale = run('--check', '--input', input, '--output', output);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('is stale');
  });

  it('fails with a message when the document cannot be read', () => {
    const failed = spawnSync(process.execPath, [script, '--check'], {
      encoding: 'utf8',
      env: { ...process.env, PYTHON: join(tmpdir(), 'no-such-python') }
    });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain('cannot read the OpenAPI document');
  });
});
