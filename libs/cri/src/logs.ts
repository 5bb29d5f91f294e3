// The CRI container log format and a reader for it. Each line of a container's log file
// is `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`: both streams share one file, a
// long line arrives as P pieces closed by an F piece (per stream, so stdout and stderr
// pieces may interleave), and the time's fraction has 0–9 digits (trailing zeros are
// trimmed) with `Z` or a numeric offset. Times are kept as bigint nanoseconds.
// The reader offers tail (last N lines), since (a time) and follow (poll the file, and
// start over from the beginning when it was rotated or truncated under us).
import { open, stat, type FileHandle } from 'node:fs/promises';
import { CriError } from './errors';

export type LogStream = 'stdout' | 'stderr';

/** One line of the file as written. */
export interface LogPiece {
  time: bigint;
  stream: LogStream;
  partial: boolean;
  text: string;
}

/** One logical line: its pieces joined, stamped with the time of its first piece. */
export interface LogLine {
  time: bigint;
  stream: LogStream;
  text: string;
}

const timeRe = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 time with 0–9 fraction digits into nanoseconds since the epoch. */
export function parseRfc3339Nano(value: string): bigint {
  const m = timeRe.exec(value);
  if (!m) throw new CriError('InvalidArgument', `not an RFC 3339 time: ${JSON.stringify(value)}`, 'logs');
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) throw new CriError('InvalidArgument', `not an RFC 3339 time: ${JSON.stringify(value)}`, 'logs');
  const fraction = BigInt((m[2] ?? '').padEnd(9, '0'));
  return BigInt(seconds) * 1_000_000n + fraction;
}

/** Formats nanoseconds as containerd does (UTC, trailing fraction zeros trimmed). */
export function formatRfc3339Nano(time: bigint): string {
  const ms = time / 1_000_000n;
  const base = new Date(Number((ms / 1000n) * 1000n)).toISOString().slice(0, 19);
  const frac = (time % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

/** Parses one line of a CRI log file (without its newline). */
export function parseLogPiece(line: string): LogPiece {
  const s1 = line.indexOf(' ');
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(' ', s2 + 1);
  // An empty F line is legal: "<time> stdout F" with nothing after the tag.
  const tagEnd = s3 < 0 ? line.length : s3;
  if (s1 < 0 || s2 < 0) throw new CriError('InvalidArgument', `not a CRI log line: ${JSON.stringify(line)}`, 'logs');
  const stream = line.slice(s1 + 1, s2);
  const tag = line.slice(s2 + 1, tagEnd);
  if (stream !== 'stdout' && stream !== 'stderr') {
    throw new CriError('InvalidArgument', `unknown stream ${JSON.stringify(stream)} in log line`, 'logs');
  }
  // Tags may carry more than P/F after a colon in later CRI versions; the first letter rules.
  const kind = tag.split(':')[0];
  if (kind !== 'P' && kind !== 'F') throw new CriError('InvalidArgument', `unknown tag ${JSON.stringify(tag)} in log line`, 'logs');
  return {
    time: parseRfc3339Nano(line.slice(0, s1)),
    stream,
    partial: kind === 'P',
    text: s3 < 0 ? '' : line.slice(s3 + 1),
  };
}

/**
 * Turns the bytes of a log file, fed in any chunks, into whole logical lines. Keeps an
 * unfinished last line and unfinished partial pieces per stream between feeds.
 */
export class LogParser {
  private rest = '';
  private readonly pending: Record<LogStream, { time: bigint; parts: string[] } | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };
  /** Lines that were not CRI format; counted, not fatal (a reader must not die on one bad line). */
  malformed = 0;

  feed(chunk: string): LogLine[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    const out: LogLine[] = [];
    for (const raw of lines) {
      if (raw === '') continue;
      let piece: LogPiece;
      try {
        piece = parseLogPiece(raw);
      } catch {
        this.malformed++;
        continue;
      }
      const open = this.pending[piece.stream];
      if (piece.partial) {
        if (open) open.parts.push(piece.text);
        else this.pending[piece.stream] = { time: piece.time, parts: [piece.text] };
        continue;
      }
      if (open) {
        open.parts.push(piece.text);
        out.push({ time: open.time, stream: piece.stream, text: open.parts.join('') });
        this.pending[piece.stream] = undefined;
      } else {
        out.push({ time: piece.time, stream: piece.stream, text: piece.text });
      }
    }
    return out;
  }

  /** Forgets partial state (after the file was rotated, its pieces start over). */
  reset(): void {
    this.rest = '';
    this.pending.stdout = undefined;
    this.pending.stderr = undefined;
  }
}

export interface ReadLogsOptions {
  /** Only the last N lines that pass the other filters (before following). */
  tail?: number;
  /** Only lines stamped at or after this time (nanoseconds, or a Date). */
  since?: bigint | Date;
  /** Only these streams (both by default). */
  streams?: LogStream[];
  /** Keep reading as the file grows, until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Polling interval while following (100 ms). */
  pollMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Reads a CRI log file as logical lines, with tail, since and follow. */
export async function* readLogs(path: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogLine> {
  const since = opts.since instanceof Date ? BigInt(opts.since.getTime()) * 1_000_000n : opts.since;
  const keep = (l: LogLine) => (since === undefined || l.time >= since) && (!opts.streams || opts.streams.includes(l.stream));
  const parser = new LogParser();
  let handle: FileHandle | undefined;
  let ino = 0;
  let offset = 0;

  const openFile = async (): Promise<boolean> => {
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && opts.follow) return false;
      throw new CriError('NotFound', `cannot open log ${path}: ${(err as Error).message}`, 'logs');
    }
    ino = (await handle.stat()).ino;
    offset = 0;
    parser.reset();
    return true;
  };

  /** Reads what was appended since the last read. */
  const readMore = async (): Promise<LogLine[]> => {
    if (!handle) return [];
    const size = (await handle.stat()).size;
    if (size <= offset) return [];
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
    offset += bytesRead;
    return parser.feed(buf.subarray(0, bytesRead).toString('utf8'));
  };

  try {
    if (await openFile()) {
      let first = (await readMore()).filter(keep);
      if (opts.tail !== undefined) first = opts.tail <= 0 ? [] : first.slice(-opts.tail);
      for (const line of first) yield line;
    }
    if (!opts.follow) return;
    while (!opts.signal?.aborted) {
      await sleep(opts.pollMs ?? 100, opts.signal);
      if (opts.signal?.aborted) break;
      if (!handle) {
        await openFile();
        continue;
      }
      for (const line of await readMore()) if (keep(line)) yield line;
      // Rotation: the path now names another file, or this one shrank (copy-truncate).
      let current: { ino: number; size: number } | undefined;
      try {
        current = await stat(path);
      } catch {
        current = undefined; // moved away and not recreated yet
      }
      if (current && (current.ino !== ino || current.size < offset)) {
        for (const line of await readMore()) if (keep(line)) yield line;
        await handle.close();
        handle = undefined;
        await openFile();
      }
    }
  } finally {
    await handle?.close();
  }
}

/** All logical lines of a log file, as an array (tail and since apply; never follows). */
export async function readAllLogs(path: string, opts: Omit<ReadLogsOptions, 'follow' | 'signal'> = {}): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of readLogs(path, opts)) lines.push(line);
  return lines;
}
