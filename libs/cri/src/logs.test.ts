import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CriError } from './errors';
import { LogParser, formatRfc3339Nano, parseLogPiece, parseRfc3339Nano, readAllLogs, readLogs, type LogLine } from './logs';

describe('parseRfc3339Nano', () => {
  it('keeps every nanosecond digit (beyond what a double holds)', () => {
    expect(parseRfc3339Nano('2026-11-25T14:50:42.336150802Z')).toBe(1795618242336150802n);
  });

  it('reads fractions of any length, and none', () => {
    expect(parseRfc3339Nano('2026-11-25T14:50:42Z')).toBe(1795618242000000000n);
    expect(parseRfc3339Nano('2026-11-25T14:50:42.5Z')).toBe(1795618242500000000n);
    expect(parseRfc3339Nano('2026-11-25T14:50:42.0001Z')).toBe(1795618242000100000n);
  });

  it('applies a numeric offset', () => {
    expect(parseRfc3339Nano('2026-11-25T16:50:42.1+02:00')).toBe(parseRfc3339Nano('2026-11-25T14:50:42.1Z'));
  });

  it('refuses what is not a time', () => {
    expect(() => parseRfc3339Nano('yesterday')).toThrow(CriError);
    expect(() => parseRfc3339Nano('2026-11-25T14:50:42.1234567890Z')).toThrow(/RFC 3339/);
  });

  it('formats as containerd does and round-trips', () => {
    const t = 1795618242336150800n;
    expect(formatRfc3339Nano(t)).toBe('2026-11-25T14:50:42.3361508Z');
    expect(parseRfc3339Nano(formatRfc3339Nano(t))).toBe(t);
    expect(formatRfc3339Nano(1795618242000000000n)).toBe('2026-11-25T14:50:42Z');
  });
});

describe('parseLogPiece', () => {
  it('splits time, stream, tag and text (text may hold spaces)', () => {
    expect(parseLogPiece('2026-11-25T14:50:42.1Z stdout F hello  world ')).toEqual({
      time: 1795618242100000000n,
      stream: 'stdout',
      partial: false,
      text: 'hello  world ',
    });
    expect(parseLogPiece('2026-11-25T14:50:42.1Z stderr P part').partial).toBe(true);
  });

  it('accepts an empty line with or without the space after the tag', () => {
    expect(parseLogPiece('2026-11-25T14:50:42Z stdout F ').text).toBe('');
    expect(parseLogPiece('2026-11-25T14:50:42Z stdout F').text).toBe('');
  });

  it('refuses unknown streams and tags', () => {
    expect(() => parseLogPiece('2026-11-25T14:50:42Z stdin F x')).toThrow(/stream/);
    expect(() => parseLogPiece('2026-11-25T14:50:42Z stdout X x')).toThrow(/tag/);
    expect(() => parseLogPiece('garbage')).toThrow(CriError);
  });
});

describe('LogParser', () => {
  const T = '2026-11-25T14:50:42.000000001Z';
  const U = '2026-11-25T14:50:43Z';

  it('joins partial pieces per stream, even when the streams interleave', () => {
    const p = new LogParser();
    const lines = p.feed(
      [`${T} stdout P ab`, `${T} stderr P 12`, `${U} stdout P cd`, `${U} stderr F 3`, `${U} stdout F ef`, ''].join('\n'),
    );
    expect(lines).toEqual([
      { time: 1795618242000000001n, stream: 'stderr', text: '123' },
      { time: 1795618242000000001n, stream: 'stdout', text: 'abcdef' },
    ]);
  });

  it('holds an unfinished line until its newline arrives, across chunks', () => {
    const p = new LogParser();
    const text = `${T} stdout F one\n${U} stdout F two\n`;
    const out: LogLine[] = [];
    for (const ch of text) out.push(...p.feed(ch));
    expect(out.map((l) => l.text)).toEqual(['one', 'two']);
  });

  it('counts malformed lines without stopping', () => {
    const p = new LogParser();
    expect(p.feed(`not a log line\n${T} stdout F ok\n`).map((l) => l.text)).toEqual(['ok']);
    expect(p.malformed).toBe(1);
  });
});

describe('readLogs', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const line = (sec: number, stream: string, tag: string, text: string) =>
    `2026-11-25T14:50:${String(sec).padStart(2, '0')}.5Z ${stream} ${tag} ${text}\n`;

  it('reads all lines, the last N with tail, and those since a time', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-cri-logs-'));
    const file = join(dir, 'c.log');
    writeFileSync(file, line(1, 'stdout', 'F', 'a') + line(2, 'stderr', 'F', 'b') + line(3, 'stdout', 'P', 'c') + line(4, 'stdout', 'F', 'd'));
    expect((await readAllLogs(file)).map((l) => l.text)).toEqual(['a', 'b', 'cd']);
    expect((await readAllLogs(file, { tail: 2 })).map((l) => l.text)).toEqual(['b', 'cd']);
    expect((await readAllLogs(file, { tail: 0 })).map((l) => l.text)).toEqual([]);
    expect((await readAllLogs(file, { since: parseRfc3339Nano('2026-11-25T14:50:02.5Z') })).map((l) => l.text)).toEqual(['b', 'cd']);
    expect((await readAllLogs(file, { since: new Date('2026-11-25T14:50:02.6Z') })).map((l) => l.text)).toEqual(['cd']);
    expect((await readAllLogs(file, { streams: ['stderr'] })).map((l) => l.text)).toEqual(['b']);
  });

  it('fails with NotFound for a missing file when not following', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-cri-logs-'));
    await expect(readAllLogs(join(dir, 'nope.log'))).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('follows appends and carries on into a new file after rotation', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-cri-logs-'));
    const file = join(dir, 'c.log');
    writeFileSync(file, line(1, 'stdout', 'F', 'first'));
    const stop = new AbortController();
    const seen: string[] = [];
    const reader = (async () => {
      for await (const l of readLogs(file, { follow: true, signal: stop.signal, pollMs: 10 })) {
        seen.push(l.text);
        if (l.text === 'after-rotation') stop.abort();
      }
    })();
    const until = async (text: string) => {
      for (let i = 0; i < 300 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toContain(text);
    };
    await until('first');
    appendFileSync(file, line(2, 'stdout', 'P', 'app') + line(2, 'stdout', 'F', 'ended'));
    await until('appended');
    renameSync(file, `${file}.1`);
    writeFileSync(file, line(3, 'stderr', 'F', 'after-rotation'));
    await reader;
    expect(seen).toEqual(['first', 'appended', 'after-rotation']);
  });

  it('stops following at once when aborted', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-cri-logs-'));
    const file = join(dir, 'c.log');
    writeFileSync(file, '');
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 30);
    const started = Date.now();
    const lines = [];
    for await (const l of readLogs(file, { follow: true, signal: stop.signal, pollMs: 5_000 })) lines.push(l);
    expect(lines).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
