import crypto from 'node:crypto';

/**
 * JSON helpers for rules files: RFC 6901 pointers, where a pointer sits in the file's text (so an
 * admin's editor can jump to the line), and the canonical form a ruleset's content hash is
 * computed over (key order and whitespace do not make a new version).
 */

const escapeToken = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

export function pointer(...tokens: ReadonlyArray<string | number>): string {
  return tokens.map((t) => `/${escapeToken(String(t))}`).join('');
}

export const joinPointer = (base: string, ...tokens: ReadonlyArray<string | number>): string => base + pointer(...tokens);

export interface TextPosition {
  line: number;
  column: number;
}

export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offsets of every value in a JSON text, by pointer. Runs only on text JSON.parse accepted and
 * whose depth validation capped, so the recursion is bounded and the scanner can be simple.
 */
export function locateValues(text: string): Map<string, number> {
  const offsets = new Map<string, number>();
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text.charAt(i))) i++;
  };
  const readString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text.charAt(i) !== '"') i += text.charAt(i) === '\\' ? 2 : 1;
    i++; // closing quote
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (at: string): void => {
    ws();
    offsets.set(at, i);
    const c = text.charAt(i);
    if (c === '{') {
      i++;
      ws();
      if (text.charAt(i) === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = readString();
        ws();
        i++; // colon
        value(`${at}/${escapeToken(key)}`);
        ws();
        if (text.charAt(i++) === '}') return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text.charAt(i) === ']') {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        value(`${at}/${index}`);
        ws();
        if (text.charAt(i++) === ']') return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    while (i < text.length && !/[\s,\]}]/.test(text.charAt(i))) i++;
  };
  value('');
  return offsets;
}

/** The position of `ptr`, or of its nearest ancestor that exists (a missing property's object). */
export function locatePointer(text: string, offsets: Map<string, number>, ptr: string): TextPosition | undefined {
  let p = ptr;
  for (;;) {
    const offset = offsets.get(p);
    if (offset !== undefined) return positionAt(text, offset);
    if (p === '') return undefined;
    p = p.slice(0, p.lastIndexOf('/'));
  }
}

/** JSON with object keys sorted at every level: equal content, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');
