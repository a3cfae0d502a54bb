import { Writable } from 'node:stream';
import { createLogger } from './logger';

/** The hub's logger options: `err` as an Error or as a message (22 call sites log a string). */
function capture(): { lines: Array<Record<string, unknown>>; sink: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, sink };
}

it('logs a string err as the string, not as an object of its characters', () => {
  const { lines, sink } = capture();
  createLogger('info', 'hub', sink).warn({ err: 'POST /Tickets: 429 injected' }, 'PSA status poll failed');
  expect(lines[0]!.err).toBe('POST /Tickets: 429 injected');
});

it('logs an Error with its message and type, and redacts secrets among its own fields', () => {
  const { lines, sink } = capture();
  const e = Object.assign(new Error('boom'), { secret: 's3cr3t-value' });
  createLogger('info', 'hub', sink).error({ err: e }, 'failed');
  expect(lines[0]!.err).toMatchObject({ type: 'Error', message: 'boom', secret: '[redacted]' });
});
