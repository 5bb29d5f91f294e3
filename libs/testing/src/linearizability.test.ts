import { describe, expect, it } from 'vitest';
import { checkLinearizable, type Model } from './linearizability';
import { checkHistoryExplained, checkRevisionOrder, kvModel, patchUnknownWrites, type KvInput, type KvOperation, type KvOutput } from './kv-model';

let nextId = 0;
const op = (client: number, call: number, ret: number | null, input: KvInput, output?: KvOutput): KvOperation => ({
  id: nextId++,
  client,
  input,
  output,
  call,
  ret: ret ?? Infinity,
});
const put = (key: string, value: string) => ({ type: 'put', key, value }) as const;
const get = (key: string) => ({ type: 'get', key }) as const;
const del = (key: string) => ({ type: 'delete', key }) as const;
const casMod = (key: string, modRevision: number, value: string) => ({ type: 'cas', key, expect: { modRevision }, value }) as const;
const got = (value: string | null, modRevision: number, revision: number) => ({ type: 'get', value, modRevision, revision }) as const;
const putAt = (revision: number) => ({ type: 'put', revision }) as const;
const cas = (succeeded: boolean, revision: number) => ({ type: 'cas', succeeded, revision }) as const;

const check = (h: KvOperation[]) => checkLinearizable(kvModel, h).result;

describe('linearizability of an etcd-like KV', () => {
  it('accepts sequential and overlapping histories', () => {
    expect(check([op(0, 0, 1, put('a', 'x'), putAt(2)), op(1, 2, 3, get('a'), got('x', 2, 2))])).toBe('ok');
    // A read overlapping a put may see before or after it.
    expect(check([op(0, 0, 10, put('a', 'x'), putAt(2)), op(1, 1, 2, get('a'), got(null, 0, 1))])).toBe('ok');
    expect(check([op(0, 0, 10, put('a', 'x'), putAt(2)), op(1, 1, 2, get('a'), got('x', 2, 2))])).toBe('ok');
  });

  it('rejects a stale read', () => {
    const h = [
      op(0, 0, 1, put('a', 'x'), putAt(2)),
      op(0, 2, 3, put('a', 'y'), putAt(3)),
      op(1, 4, 5, get('a'), got('x', 2, 3)),
    ];
    const r = checkLinearizable(kvModel, h);
    expect(r.result).toBe('illegal');
    expect(r.explanation!.stuck.map((o) => o.id)).toContain(h[2]!.id);
    expect(r.explanation!.text).toMatch(/none of these could come next/);
  });

  it('rejects a lost write (a read after an acknowledged put sees the old value)', () => {
    const h = [op(0, 0, 1, put('a', 'x'), putAt(2)), op(1, 2, 3, get('a'), got(null, 0, 2))];
    expect(check(h)).toBe('illegal');
  });

  it('rejects two CAS successes on the same mod revision', () => {
    const h = [
      op(0, 0, 1, put('a', 'x'), putAt(2)),
      op(1, 2, 5, casMod('a', 2, 'y'), cas(true, 3)),
      op(2, 2, 5, casMod('a', 2, 'z'), cas(true, 4)),
    ];
    expect(check(h)).toBe('illegal');
    // One winner and one loser is fine.
    const ok = [h[0]!, h[1]!, op(2, 2, 5, casMod('a', 2, 'z'), cas(false, 3))];
    expect(check(ok)).toBe('ok');
  });

  it('lets an open (timed-out) write take effect or not', () => {
    const lost = [op(0, 0, null, put('a', 'x')), op(1, 5, 6, get('a'), got(null, 0, 1))];
    expect(check(lost)).toBe('ok');
    const applied = [op(0, 0, null, put('a', 'x')), op(1, 5, 6, get('a'), got('x', 2, 2))];
    expect(check(applied)).toBe('ok');
    // It may take effect late, but once seen it cannot be un-seen.
    const flicker = [...applied, op(1, 7, 8, get('a'), got(null, 0, 2))];
    expect(check(flicker)).toBe('illegal');
    // An open delete may or may not have removed the key.
    const openDelete = [
      op(0, 0, 1, put('a', 'x'), putAt(2)),
      op(0, 2, null, del('a')),
      op(1, 3, 4, get('a'), got('x', 2, 2)),
      op(1, 5, 6, get('a'), got(null, 0, 3)),
    ];
    expect(check(openDelete)).toBe('ok');
  });

  it('an open CAS may succeed only if its compare could hold', () => {
    const h = [
      op(0, 0, 1, put('a', 'x'), putAt(2)),
      op(0, 2, 3, put('a', 'y'), putAt(3)),
      op(1, 4, null, casMod('a', 2, 'z')),
      op(2, 5, 6, get('a'), got('z', 4, 4)),
    ];
    expect(check(h)).toBe('illegal');
  });

  it('a delete of a missing key changes nothing; of a present key, removes it', () => {
    const h = [
      op(0, 0, 1, del('a'), { type: 'delete', deleted: 0, revision: 1 }),
      op(0, 2, 3, put('a', 'x'), putAt(2)),
      op(0, 4, 5, del('a'), { type: 'delete', deleted: 1, revision: 3 }),
      op(0, 6, 7, get('a'), got(null, 0, 3)),
    ];
    expect(check(h)).toBe('ok');
    expect(check([op(0, 0, 1, del('a'), { type: 'delete', deleted: 1, revision: 2 })])).toBe('illegal');
  });

  it('checks keys apart but revisions across keys against real time', () => {
    const h = [op(0, 0, 1, put('a', 'x'), putAt(5)), op(1, 2, 3, put('b', 'y'), putAt(4))];
    expect(check(h)).toBe('ok');
    expect(checkRevisionOrder(h)).toHaveLength(1);
    const concurrent = [op(0, 0, 3, put('a', 'x'), putAt(5)), op(1, 1, 4, put('b', 'y'), putAt(4))];
    expect(checkRevisionOrder(concurrent)).toEqual([]);
    const same = [op(0, 0, 3, put('a', 'x'), putAt(5)), op(1, 1, 4, put('b', 'y'), putAt(5))];
    expect(checkRevisionOrder(same)).toHaveLength(1);
  });

  it('settles unknown writes from the store history', () => {
    const h = [op(0, 0, null, put('a', 'x')), op(0, 1, null, put('a', 'never'))];
    const patched = patchUnknownWrites(h, [{ type: 'PUT', key: 'a', value: 'x', modRevision: 7 }]);
    expect(patched).toHaveLength(1);
    expect(patched[0]!.output).toEqual({ type: 'put', revision: 7 });
    expect(patched[0]!.ret).toBe(Infinity);
  });

  it('settles unknown deletes from unexplained DELETE events and drops the rest', () => {
    const h = [
      op(0, 0, 1, put('a', 'x'), putAt(2)),
      op(1, 2, 3, del('a'), { type: 'delete', deleted: 1, revision: 3 }),
      op(0, 4, 5, put('a', 'y'), putAt(4)),
      op(2, 6, null, del('a')),
      op(3, 7, null, del('a')),
      op(1, 9, 10, get('a'), got(null, 0, 5)),
    ];
    const events = [
      { type: 'PUT', key: 'a', value: 'x', modRevision: 2 },
      { type: 'DELETE', key: 'a', modRevision: 3 },
      { type: 'PUT', key: 'a', value: 'y', modRevision: 4 },
      { type: 'DELETE', key: 'a', modRevision: 5 },
    ] as const;
    const patched = patchUnknownWrites(h, [...events]);
    const settled = patched.filter((o) => o.input.type === 'delete' && o.ret === Infinity);
    expect(settled).toHaveLength(1);
    expect(settled[0]!.output).toEqual({ type: 'delete', deleted: 1, revision: 5 });
    expect(settled[0]!.call).toBe(6);
    expect(check(patched)).toBe('ok');
    expect(checkHistoryExplained(h, [...events])).toEqual([]);
    // A write nobody asked for, or more deletes than asked for.
    expect(checkHistoryExplained(h, [...events, { type: 'PUT', key: 'a', value: 'ghost', modRevision: 6 }])).toHaveLength(1);
    const extra = [...events, { type: 'DELETE', key: 'a', modRevision: 6 }, { type: 'DELETE', key: 'a', modRevision: 7 }] as const;
    expect(checkHistoryExplained(h, [...extra])).toHaveLength(1);
  });

  it('answers unknown when the budget runs out', () => {
    const h: KvOperation[] = [];
    for (let i = 0; i < 12; i++) h.push(op(i, 0, 100, put('a', `v${i}`), putAt(i + 2)));
    h.push(op(99, 101, 102, get('a'), got('nope', 3, 20)));
    expect(checkLinearizable(kvModel, h, { budget: 50 }).result).toBe('unknown');
    expect(checkLinearizable(kvModel, h).result).toBe('illegal');
  });

  it('handles a long concurrent history quickly', () => {
    // 4 clients, 2000 operations, each overlapping its neighbours.
    const h: KvOperation[] = [];
    let rev = 1;
    let value: string | null = null;
    let mod = 0;
    for (let i = 0; i < 2000; i++) {
      const t = i * 10;
      if (i % 3 === 0) {
        rev++;
        value = `v${i}`;
        mod = rev;
        h.push(op(i % 4, t - 5, t + 5, put('k', value), putAt(rev)));
      } else h.push(op(i % 4, t - 5, t + 5, get('k'), got(value, mod, rev)));
    }
    const r = checkLinearizable(kvModel, h);
    expect(r.result).toBe('ok');
  });
});

describe('the generic checker', () => {
  // A register whose reads are the only outputs; the point is the search, not the model.
  type Reg = { op: 'w' | 'r'; v: number };
  const register: Model<number, Reg, number> = {
    init: () => 0,
    step: (s, i, o) => (i.op === 'w' ? [i.v] : o === undefined || o === s ? [s] : []),
    hash: (s) => String(s),
  };
  it('finds the one order that works among many', () => {
    const h = [
      { id: 0, client: 0, input: { op: 'w', v: 1 } as Reg, output: 0, call: 0, ret: 10 },
      { id: 1, client: 1, input: { op: 'w', v: 2 } as Reg, output: 0, call: 0, ret: 10 },
      { id: 2, client: 2, input: { op: 'r', v: 0 } as Reg, output: 1, call: 1, ret: 9 },
      { id: 3, client: 3, input: { op: 'r', v: 0 } as Reg, output: 2, call: 1, ret: 9 },
      { id: 4, client: 2, input: { op: 'r', v: 0 } as Reg, output: 2, call: 11, ret: 12 },
    ];
    expect(checkLinearizable(register, h).result).toBe('ok');
    h[4]!.output = 1;
    expect(checkLinearizable(register, h).result).toBe('ok');
    h.push({ id: 5, client: 3, input: { op: 'r', v: 0 } as Reg, output: 2, call: 13, ret: 14 });
    expect(checkLinearizable(register, h).result).toBe('illegal');
  });
});
