import fc from 'fast-check';
import { parseCsv } from './csv';

const fieldsOf = (text: string) => parseCsv(text).records.map((r) => r.fields);

describe('parseCsv (RFC 4180, with the line each record starts on)', () => {
  it.each([
    ['plain', 'a,b,c\n1,2,3\n', [['a', 'b', 'c'], ['1', '2', '3']]],
    ['no final line break', 'a,b\n1,2', [['a', 'b'], ['1', '2']]],
    ['CRLF', 'a,b\r\n1,2\r\n', [['a', 'b'], ['1', '2']]],
    ['CR only', 'a,b\r1,2\r', [['a', 'b'], ['1', '2']]],
    ['empty fields', ',,\n', [['', '', '']]],
    ['trailing comma at end of file', 'a,', [['a', '']]],
    ['quoted comma, quote and newline', '"a,b","say ""hi""","x\ny"\n', [['a,b', 'say "hi"', 'x\ny']]],
    ['empty quoted field', '"",x\n', [['', 'x']]],
    ['BOM', '\uFEFFa,b\n', [['a', 'b']]],
    ['blank lines skipped', '\n\na\n\r\n\nb\n', [['a'], ['b']]],
    ['spaces kept', ' a , b \n', [[' a ', ' b ']]],
  ])('%s', (_what, text, expected) => {
    const r = parseCsv(text);
    expect(r.fatal).toBeNull();
    expect(r.records.map((x) => x.fields)).toEqual(expected);
    expect(r.records.every((x) => x.error === undefined)).toBe(true);
  });

  it('numbers records by the line they start on, counting quoted line breaks and blank lines', () => {
    const r = parseCsv('h\n"a\nb"\n\nc\r\n"d\r\ne"\nf\n');
    expect(r.records.map((x) => [x.line, x.fields[0]])).toEqual([
      [1, 'h'],
      [2, 'a\nb'],
      [5, 'c'],
      [6, 'd\r\ne'],
      [8, 'f'],
    ]);
  });

  it('marks a record with a stray quote or text after a closing quote, and goes on', () => {
    const r = parseCsv('a"b,c\n"x"y,z\nok,1\n');
    expect(r.fatal).toBeNull();
    expect(r.records).toEqual([
      { line: 1, fields: ['a"b', 'c'], error: expect.stringContaining('quote inside an unquoted field') },
      { line: 2, fields: ['xy', 'z'], error: expect.stringContaining('text after a closing quote') },
      { line: 3, fields: ['ok', '1'] },
    ]);
  });

  it('a quote never closed stops reading at the line it opened', () => {
    const r = parseCsv('a,b\n1,2\n3,"4\n5,6\n');
    expect(r.fatal).toEqual({ line: 3, message: expect.stringContaining('never closed') });
    expect(r.records.map((x) => x.fields)).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('reads back what a correct writer wrote (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', 'é') });
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 20 }), (rows) => {
        const text = rows.map((r) => r.map(quote).join(',')).join('\r\n');
        expect(fieldsOf(text)).toEqual(rows);
      }),
    );
  });
});
