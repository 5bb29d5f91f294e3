import { describe, expect, it } from 'vitest';
import { checkAckedWrites, checkWatches, type WatchRecord } from './watch-check';
import type { HistoryEvent } from './kv-model';
import { checkRun, parseRun, stringifyRun } from './run';

const put = (key: string, value: string, modRevision: number): HistoryEvent => ({ type: 'PUT', key, value, modRevision });
const history = [put('a', 'x', 2), put('b', 'y', 3), { type: 'DELETE', key: 'a', modRevision: 4 } as HistoryEvent, put('a', 'z', 5)];
const all = { key: 'a', end: 'c' };

describe('watch checker', () => {
  it('accepts a complete stream, a single-key stream and a resumed pair', () => {
    const ws: WatchRecord[] = [
      { id: 'w1', range: all, startRevision: 1, events: history },
      { id: 'w2', range: { key: 'a' }, startRevision: 3, events: [history[2]!, history[3]!] },
      { id: 'w3a', range: all, startRevision: 1, events: history.slice(0, 2) },
      { id: 'w3b', range: all, startRevision: 4, events: history.slice(2), resumedFrom: 'w3a' },
      // Covered only to its progress revision: nothing missed.
      { id: 'w4', range: all, startRevision: 4, events: [], progressRevision: 3 },
    ];
    expect(checkWatches(history, ws)).toEqual([]);
  });

  it('finds gaps, duplicates, disorder, invented events and bad resumption', () => {
    const found = (w: WatchRecord) => checkWatches(history, [w]).join('\n');
    expect(found({ id: 'g', range: all, startRevision: 1, events: [history[0]!, history[2]!] })).toMatch(/gap: missed PUT b=y @3/);
    expect(found({ id: 'd', range: all, startRevision: 1, events: [history[0]!, history[0]!] })).toMatch(/duplicate/);
    expect(found({ id: 'o', range: all, startRevision: 1, events: [history[1]!, history[0]!] })).toMatch(/out of order/);
    expect(found({ id: 'i', range: all, startRevision: 1, events: [put('a', 'ghost', 2)] })).toMatch(/store's history has/);
    expect(found({ id: 'r', range: { key: 'b' }, startRevision: 1, events: [history[0]!] })).toMatch(/outside its range/);
    expect(found({ id: 'p', range: all, startRevision: 1, events: [], progressRevision: 3 })).toMatch(/gap/);
    const resumed = checkWatches(history, [
      { id: 'a', range: all, startRevision: 1, events: history.slice(0, 2) },
      { id: 'b', range: all, startRevision: 5, events: history.slice(3), resumedFrom: 'a' },
    ]);
    expect(resumed.join('\n')).toMatch(/resumed at 5/);
  });

  it('finds acknowledged writes missing from the history', () => {
    expect(checkAckedWrites(history, [{ type: 'PUT', key: 'b', value: 'y', revision: 3 }])).toEqual([]);
    expect(checkAckedWrites(history, [{ type: 'PUT', key: 'b', value: 'w', revision: 6 }])).toHaveLength(1);
  });
});

describe('a recorded run', () => {
  it('round-trips through JSON with open operations and checks as a whole', () => {
    const run = {
      seed: 1,
      operations: [
        { id: 0, client: 0, input: { type: 'put', key: 'a', value: 'x' }, output: { type: 'put', revision: 2 }, call: 0, ret: 1 },
        { id: 1, client: 1, input: { type: 'put', key: 'b', value: 'y' }, output: undefined, call: 0, ret: Infinity },
        { id: 2, client: 0, input: { type: 'get', key: 'b' }, output: { type: 'get', value: 'y', modRevision: 3, revision: 3 }, call: 2, ret: 3 },
      ],
      history: history.slice(0, 2),
      watches: [{ id: 'w', range: all, startRevision: 1, events: history.slice(0, 2) }],
    } as const;
    const back = parseRun(stringifyRun(structuredClone(run) as never));
    expect(back.operations[1]!.ret).toBe(Infinity);
    const v = checkRun(back);
    expect(v.anomalies).toEqual([]);
    expect(v.linearizable).toBe('ok');
    back.history = history.slice(0, 1);
    expect(checkRun(back).anomalies.length).toBeGreaterThan(0);
  });
});
