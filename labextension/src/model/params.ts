/** Turning the Train form's text into run parameters, by the plan's Python type names. */
import type { ParamValue } from '../api/types';

export type ParamKind = 'int' | 'float' | 'bool' | 'str' | 'other';

/** The kind of a Python type name such as 'int', 'float', 'Optional[int]', 'bool | None'. */
export function paramKind(pythonType: string): ParamKind {
  const bare = pythonType
    .replace(/\s+/g, '')
    .replace(/^typing\./, '')
    .replace(/^Optional\[(.*)\]$/, '$1')
    .replace(/^(.*)\|None$/, '$1')
    .replace(/^None\|(.*)$/, '$1')
    .replace(/^builtins\./, '');
  switch (bare) {
    case 'int':
    case 'float':
    case 'bool':
    case 'str':
      return bare;
    default:
      return 'other';
  }
}

/**
 * The value of parameter `name` typed as `raw` in the form; undefined when left empty
 * (the module's default applies). Throws an Error with a one-line message when invalid.
 */
export function parseParam(name: string, pythonType: string, raw: string): ParamValue | undefined {
  const text = raw.trim();
  const kind = paramKind(pythonType);
  if (text === '' && kind !== 'str') {
    return undefined;
  }
  switch (kind) {
    case 'int':
      if (!/^[+-]?\d+$/.test(text)) {
        throw new Error(`${name} must be a whole number, not "${text}".`);
      }
      return Number.parseInt(text, 10);
    case 'float': {
      const value = Number(text);
      if (!Number.isFinite(value)) {
        throw new Error(`${name} must be a number, not "${text}".`);
      }
      return value;
    }
    case 'bool':
      if (/^(true|1|yes)$/i.test(text)) {
        return true;
      }
      if (/^(false|0|no)$/i.test(text)) {
        return false;
      }
      throw new Error(`${name} must be true or false, not "${text}".`);
    case 'str':
      return raw === '' ? undefined : raw;
    default:
      return raw;
  }
}
