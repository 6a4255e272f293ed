/**
 * Captures what a logger writes, for tests: pass `capture.stream` as the logger's destination and
 * assert on `capture.records()` (parsed objects), never on the raw text.
 *
 *   const capture = createLogCapture();
 *   const log = createLogger({ name: 'test', destination: capture.stream });
 *   log.info({ peer: 'a' }, 'up');
 *   assert.equal(capture.records()[0]?.msg, 'up');
 */
import type { DestinationStream } from 'pino';

/** One parsed log line. pino always writes `level`, `time` and `msg` (when a message is given). */
export type LogRecord = Record<string, unknown>;

export interface LogCapture {
  /** The destination to give to `createLogger`. Writes are kept synchronously. */
  readonly stream: DestinationStream;
  /** Everything written so far, as text. */
  text(): string;
  /** Everything written so far, one object per line. */
  records(): LogRecord[];
  /** The records whose fields equal all of `fields` (`{ level: 'error', component: 'bgp' }`). */
  find(fields: Readonly<Record<string, unknown>>): LogRecord[];
  /** Forgets what was written. */
  clear(): void;
}

export function createLogCapture(): LogCapture {
  let chunks: string[] = [];
  const stream: DestinationStream = {
    write(msg: string): void {
      chunks.push(msg);
    },
  };
  const text = (): string => chunks.join('');
  const records = (): LogRecord[] => parseNdjson(text());
  return {
    stream,
    text,
    records,
    find: (fields) => records().filter((r) => Object.entries(fields).every(([k, v]) => r[k] === v)),
    clear: () => {
      chunks = [];
    },
  };
}

/**
 * Parses newline-delimited JSON: one object per non-empty line. A line that is not a JSON object
 * throws a SyntaxError naming its line number.
 */
export function parseNdjson(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new SyntaxError(`line ${i + 1}: not JSON: ${line.slice(0, 120)}`, { cause: err });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SyntaxError(`line ${i + 1}: expected a JSON object, got ${line.slice(0, 120)}`);
    }
    out.push(value as LogRecord);
  }
  return out;
}
