import { describe, expect, it } from 'vitest';
import { summarizeProbe } from './probe';
import { failoverFigures, formatTimeline } from './timeline';
import { checkWrites, ContinuousWriter, type WriteRecord } from './writer';

/** A fake clock that moves only when the writer sleeps or a write takes time. */
function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms), sleep: async (ms: number) => void (t += ms) };
}

describe('ContinuousWriter', () => {
  it('records every write; only answered ones are acknowledged, and each gets a fresh name', async () => {
    const c = clock();
    const down = new Set([3, 4]);
    const stopAfter = 6;
    const writer = new ContinuousWriter({
      now: c.now,
      sleep: c.sleep,
      backoffMs: 100,
      write: async (_name, seq) => {
        c.advance(10);
        if (seq >= stopAfter) void writer.stop();
        if (down.has(seq)) throw new Error('14 UNAVAILABLE: no connection\nmore');
        return String(100 + seq);
      },
    });
    writer.start();
    // The write itself asks to stop at seq 6; the loop ends after it.
    while (writer.records.length < stopAfter) await new Promise((r) => setTimeout(r, 0));
    await writer.stop();
    expect(writer.records.map((r) => [r.seq, r.name, r.outcome])).toEqual([
      [1, 'write-000001', 'acked'],
      [2, 'write-000002', 'acked'],
      [3, 'write-000003', 'failed'],
      [4, 'write-000004', 'failed'],
      [5, 'write-000005', 'acked'],
      [6, 'write-000006', 'acked'],
    ]);
    expect(writer.records[2]!.error).toBe('14 UNAVAILABLE: no connection');
    expect(writer.records[4]!.revision).toBe('105');
    // 10 ms per write, 100 ms back-off after each failure.
    expect(writer.records.map((r) => r.startedAt)).toEqual([0, 10, 20, 130, 240, 250]);
    expect(writer.firstAckStartedAfter(21)?.seq).toBe(5);
    const s = writer.summary();
    expect(s).toMatchObject({ attempted: 6, acked: 4, failed: 2 });
    expect(s.longestAckGap).toEqual({ ms: 230, from: 20, to: 250 });
  });
});

describe('checkWrites', () => {
  const rec = (seq: number, outcome: WriteRecord['outcome']): WriteRecord => ({ seq, name: `w${seq}`, startedAt: seq, endedAt: seq + 1, outcome });

  it('counts an acknowledged write lost when it is absent or holds another value', () => {
    const records = [rec(1, 'acked'), rec(2, 'acked'), rec(3, 'acked'), rec(4, 'failed'), rec(5, 'failed')];
    const present = new Map([
      ['w1', 1],
      ['w3', 99],
      ['w4', 4],
    ]);
    const r = checkWrites(records, present);
    expect(r.lost.map((w) => w.name)).toEqual(['w2', 'w3']);
    expect(r.acked).toBe(3);
    // w4 failed from the client's side but was committed; w5 was not: neither is "lost".
    expect(r.failedButPresent).toBe(1);
  });

  it('finds nothing lost when every acknowledged write is there', () => {
    expect(checkWrites([rec(1, 'acked')], new Map([['w1', 1]])).lost).toEqual([]);
  });
});

describe('failoverFigures', () => {
  const w = (seq: number, startedAt: number, endedAt: number, outcome: WriteRecord['outcome'] = 'acked'): WriteRecord => ({ seq, name: `w${seq}`, startedAt, endedAt, outcome });

  it('measures kill → leader, kill → first write started after the kill, and the outage in acknowledgements', () => {
    const records = [w(1, 0, 10), w(2, 10, 20), w(3, 995, 1005) /* in flight at the kill, answered */, w(4, 1005, 3005, 'failed'), w(5, 3055, 3070), w(6, 3070, 3080)];
    expect(failoverFigures({ killAt: 1000, newLeaderAt: 2500, records })).toEqual({ leaderElectedMs: 1500, writesResumedMs: 2070, longestAckGapMs: 2065 });
  });

  it('leaves out what was not seen', () => {
    expect(failoverFigures({ killAt: 1000, records: [w(1, 0, 10), w(2, 10, 1200, 'failed')] })).toEqual({ longestAckGapMs: 0 });
  });
});

describe('formatTimeline', () => {
  it('prints events in time order, relative to the kill', () => {
    expect(formatTimeline([{ at: 2500, what: 'leader' }, { at: 1000, what: 'kill' }, { at: 0, what: 'start' }], 1000).split('\n')).toEqual([
      '     -1.000 s  start',
      '     +0.000 s  kill',
      '     +1.500 s  leader',
    ]);
  });
});

describe('summarizeProbe', () => {
  it('counts answers and failures and the longest time between answers', () => {
    const s = summarizeProbe([
      { t: 0, ok: true },
      { t: 200, ok: true },
      { t: 400, ok: false },
      { t: 600, ok: false },
      { t: 800, ok: true },
      { t: 1000, ok: true },
    ]);
    expect(s).toEqual({ answered: 4, failed: 2, longestSilence: { ms: 600, from: 200 } });
  });
});
