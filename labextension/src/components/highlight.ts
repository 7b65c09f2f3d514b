/**
 * A small Python tokenizer for the generated-module preview: enough to colour keywords,
 * strings, comments, numbers, decorators and definitions. Unknown text stays plain.
 */

export type TokenKind =
  | 'keyword'
  | 'builtin'
  | 'string'
  | 'comment'
  | 'number'
  | 'decorator'
  | 'def'
  | 'text';

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except ' +
    'finally for from global if import in is lambda nonlocal not or pass raise return try ' +
    'while with yield match case'
  ).split(' ')
);

const BUILTINS = new Set(
  (
    'abs all any bool dict enumerate float int isinstance len list max min print range ' +
    'round set sorted str sum tuple type zip open super object Exception ValueError'
  ).split(' ')
);

// One alternation per token kind, tried at each position in this order.
const TOKEN = new RegExp(
  [
    '(#[^\\n]*)', // 1 comment
    '([rRbBuUfF]{0,2}(?:"""[\\s\\S]*?(?:"""|$)|\'\'\'[\\s\\S]*?(?:\'\'\'|$)|"(?:[^"\\\\\\n]|\\\\.)*"?|\'(?:[^\'\\\\\\n]|\\\\.)*\'?))', // 2 string
    '(@[A-Za-z_][\\w.]*)', // 3 decorator
    '(\\b(?:0[xX][0-9a-fA-F_]+|\\d[\\d_]*(?:\\.[\\d_]*)?(?:[eE][+-]?\\d+)?j?|\\.\\d[\\d_]*(?:[eE][+-]?\\d+)?j?)\\b)', // 4 number
    '([A-Za-z_]\\w*)' // 5 name
  ].join('|'),
  'g'
);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let last = 0;
  let previousName = '';
  const push = (kind: TokenKind, text: string): void => {
    const prev = tokens[tokens.length - 1];
    if (kind === 'text' && prev && prev.kind === 'text') {
      prev.text += text;
    } else if (text) {
      tokens.push({ kind, text });
    }
  };
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(source); match !== null; match = TOKEN.exec(source)) {
    push('text', source.slice(last, match.index));
    const [text, comment, string, decorator, number, name] = match;
    if (comment !== undefined) {
      push('comment', text);
    } else if (string !== undefined) {
      push('string', text);
    } else if (decorator !== undefined) {
      push('decorator', text);
    } else if (number !== undefined) {
      push('number', text);
    } else if (name !== undefined) {
      if (previousName === 'def' || previousName === 'class') {
        push('def', text);
      } else if (KEYWORDS.has(text)) {
        push('keyword', text);
      } else if (BUILTINS.has(text)) {
        push('builtin', text);
      } else {
        push('text', text);
      }
      previousName = text;
      last = TOKEN.lastIndex;
      continue;
    }
    previousName = '';
    last = TOKEN.lastIndex;
  }
  push('text', source.slice(last));
  return tokens;
}
