// A property test: random sequences of puts, deletes, txns, leases, compactions and reads,
// applied to the real store and to a small in-memory model of etcd's rules. Every answer
// must match the model's, the watch stream must be exactly the model's events, and a
// restart must change nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MvccError } from './errors';
import { collect, summary, TestStore } from './test-helpers';
import type { KeyValue, Operation, RangeResult, RequestOp } from './types';

const KEYS = ['a', 'b', 'c', 'd', 'e'];
const enc = (s: string) => Buffer.from(s, 'latin1');

interface ModelKv {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: bigint;
}

type Step =
  | { t: 'put'; key: string; value: string; lease: bigint }
  | { t: 'del'; key: string; end: string | undefined }
  | {
      t: 'txn';
      key: string;
      target: 'MOD' | 'VERSION' | 'VALUE';
      result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
      operand: number;
      success: ({ put: string; value: string } | { del: string })[];
      failure: { put: string; value: string }[];
    }
  | { t: 'compact'; back: number }
  | { t: 'grant'; id: bigint }
  | { t: 'revoke'; id: bigint }
  | {
      t: 'range';
      key: string;
      end: string | undefined;
      back: number;
      limit: number;
      order: 'NONE' | 'ASCEND' | 'DESCEND';
      target: 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';
      minMod: number;
    };

class Model {
  rev = 1;
  compact = 0;
  kvs = new Map<string, ModelKv>();
  snapshots = new Map<number, Map<string, ModelKv>>([[1, new Map()]]);
  leases = new Map<bigint, Set<string>>();
  events: string[] = [];
  private changed = false;

  begin(): void {
    this.changed = false;
  }

  end(): void {
    if (this.changed) this.snapshots.set(this.rev, new Map(this.kvs));
  }

  private next(): number {
    if (!this.changed) {
      this.changed = true;
      this.rev++;
    }
    return this.rev;
  }

  put(key: string, value: string, lease: bigint): void {
    const rev = this.next();
    const old = this.kvs.get(key);
    if (old && old.lease !== 0n) this.leases.get(old.lease)?.delete(key);
    if (lease !== 0n) this.leases.get(lease)!.add(key);
    this.kvs.set(key, { key, value, create: old ? old.create : rev, mod: rev, version: (old?.version ?? 0) + 1, lease });
    this.events.push(`PUT ${key}@${rev}`);
  }

  del(keys: string[]): number {
    for (const key of keys) {
      const rev = this.next();
      const old = this.kvs.get(key)!;
      if (old.lease !== 0n) this.leases.get(old.lease)?.delete(key);
      this.kvs.delete(key);
      this.events.push(`DELETE ${key}@${rev}`);
    }
    return keys.length;
  }

  /** Keys in [key, end) present at `atRev`, sorted. */
  keysIn(map: Map<string, ModelKv>, key: string, end: string | undefined): string[] {
    return [...map.keys()].filter((k) => (end === undefined ? k === key : k >= key && (end === '\0' || k < end))).sort();
  }

  at(rev: number): Map<string, ModelKv> {
    for (let r = rev; r >= 1; r--) {
      const snap = this.snapshots.get(r);
      if (snap) return snap;
    }
    return new Map();
  }
}

const keyArb = fc.constantFrom(...KEYS);
const endArb = fc.option(fc.constantFrom('b', 'd', 'f', '\0'), { nil: undefined });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), key: keyArb, value: fc.constantFrom('x', 'y', 'z'), lease: fc.constantFrom(0n, 0n, 1n, 2n) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), key: keyArb, end: endArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('txn' as const),
      key: keyArb,
      target: fc.constantFrom('MOD' as const, 'VERSION' as const, 'VALUE' as const),
      result: fc.constantFrom('EQUAL' as const, 'GREATER' as const, 'LESS' as const, 'NOT_EQUAL' as const),
      operand: fc.integer({ min: 0, max: 4 }),
      // Distinct keys in success; failure may repeat a key, which etcd refuses.
      success: fc.uniqueArray(fc.oneof(fc.record({ put: keyArb, value: fc.constantFrom('s', 't') }), fc.record({ del: keyArb })), {
        maxLength: 3,
        selector: (op) => ('put' in op ? op.put : op.del),
      }),
      failure: fc.array(fc.record({ put: keyArb, value: fc.constant('f') }), { maxLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const), back: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('grant' as const), id: fc.constantFrom(1n, 2n) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('revoke' as const), id: fc.constantFrom(1n, 2n) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('range' as const),
      key: keyArb,
      end: endArb,
      back: fc.integer({ min: 0, max: 8 }),
      limit: fc.integer({ min: 0, max: 3 }),
      order: fc.constantFrom('NONE' as const, 'ASCEND' as const, 'DESCEND' as const),
      target: fc.constantFrom('KEY' as const, 'VERSION' as const, 'CREATE' as const, 'MOD' as const, 'VALUE' as const),
      minMod: fc.constantFrom(0, 0, 3, 6),
    }),
  },
);

function view(kv: KeyValue) {
  return { key: kv.key.toString('latin1'), value: kv.value.toString('latin1'), create: kv.createRevision, mod: kv.modRevision, version: kv.version, lease: kv.lease };
}

interface RangeShape {
  limit: number;
  order?: 'NONE' | 'ASCEND' | 'DESCEND';
  target?: 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';
  minMod?: number;
}

/** etcd's rules, spelled out plainly: count before filters, filter, sort (stable), then limit. */
function expectRange(result: RangeResult, model: Model, map: Map<string, ModelKv>, key: string, end: string | undefined, shape: RangeShape) {
  const keys = model.keysIn(map, key, end);
  let kvs = keys.map((k) => map.get(k)!);
  if (shape.minMod) kvs = kvs.filter((kv) => kv.mod >= shape.minMod!);
  const target = shape.target ?? 'KEY';
  const order = shape.order === 'NONE' && target !== 'KEY' ? 'ASCEND' : (shape.order ?? 'NONE');
  if (order !== 'NONE') {
    const field = (kv: ModelKv): string | number =>
      ({ KEY: kv.key, VERSION: kv.version, CREATE: kv.create, MOD: kv.mod, VALUE: kv.value })[target];
    const cmp = (a: ModelKv, b: ModelKv) => (field(a) < field(b) ? -1 : field(a) > field(b) ? 1 : 0);
    kvs = [...kvs].sort(order === 'ASCEND' ? cmp : (a, b) => cmp(b, a));
  }
  const shown = shape.limit > 0 ? kvs.slice(0, shape.limit) : kvs;
  expect(result.kvs.map(view)).toEqual(shown);
  expect(result.count).toBe(keys.length);
  expect(result.more).toBe(shown.length < kvs.length);
}

function txnOperand(s: Extract<Step, { t: 'txn' }>): { value?: Buffer; modRevision?: number; version?: number } {
  if (s.target === 'VALUE') return { value: enc(['x', 'y', 's', 'f', ''][s.operand % 5]!) };
  return s.target === 'MOD' ? { modRevision: s.operand } : { version: s.operand };
}

/** The replicated operation for a step (reads are not operations). */
function toOperation(s: Step): Operation | undefined {
  switch (s.t) {
    case 'put':
      return { type: 'put', request: { key: enc(s.key), value: enc(s.value), lease: s.lease, prevKv: true } };
    case 'del':
      return { type: 'deleteRange', request: { key: enc(s.key), rangeEnd: s.end === undefined ? undefined : enc(s.end), prevKv: true } };
    case 'txn': {
      const success: RequestOp[] = s.success.map((op) =>
        'put' in op ? { requestPut: { key: enc(op.put), value: enc(op.value) } } : { requestDeleteRange: { key: enc(op.del) } },
      );
      // A read inside the txn, so grouped applies must see the writes before them.
      success.push({ requestRange: { key: enc('a'), rangeEnd: Buffer.of(0) } });
      const failure: RequestOp[] = s.failure.map((op) => ({ requestPut: { key: enc(op.put), value: enc(op.value) } }));
      const compare = [{ key: enc(s.key), target: s.target, result: s.result, ...txnOperand(s) }];
      return { type: 'txn', request: { compare, success, failure } };
    }
    case 'compact':
      // A fixed revision: sometimes ahead of the store (refused), sometimes inside a group.
      return { type: 'compact', revision: 2 + s.back };
    case 'grant':
      return { type: 'leaseGrant', request: { ttl: 60, id: s.id } };
    case 'revoke':
      return { type: 'leaseRevoke', id: s.id };
    case 'range':
      return undefined;
  }
}

/** Applies one step to the store and the model, checking the answers against each other. */
async function step(t: TestStore, model: Model, s: Step): Promise<void> {
  const refusal = async <T>(run: () => Promise<T>): Promise<T | string> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof MvccError) return err.code;
      throw err;
    }
  };
  model.begin();
  try {
    switch (s.t) {
      case 'put': {
        const result = await refusal(() => t.apply(toOperation(s) as Extract<Operation, { type: 'put' }>));
        if (s.lease !== 0n && !model.leases.has(s.lease)) return expect(result).toBe('LeaseNotFound');
        const prev = model.kvs.get(s.key);
        model.put(s.key, s.value, s.lease);
        if (typeof result === 'string') throw new Error(`unexpected ${result}`);
        expect(result.revision).toBe(model.rev);
        expect(result.prevKv ? view(result.prevKv) : undefined).toEqual(prev);
        return;
      }
      case 'del': {
        const result = await t.apply(toOperation(s) as Extract<Operation, { type: 'deleteRange' }>);
        const victims = model.keysIn(model.kvs, s.key, s.end);
        const prevs = victims.map((k) => model.kvs.get(k)!);
        model.del(victims);
        expect({ revision: result.revision, deleted: result.deleted, prev: result.prevKvs.map(view) }).toEqual({ revision: model.rev, deleted: victims.length, prev: prevs });
        return;
      }
      case 'txn': {
        const operand = txnOperand(s);
        const result = await refusal(() => t.apply(toOperation(s) as Extract<Operation, { type: 'txn' }>));
        const dup = (ops: typeof s.success) => {
          const puts = ops.flatMap((o) => ('put' in o ? [o.put] : []));
          const dels = ops.flatMap((o) => ('del' in o ? [o.del] : []));
          return new Set(puts).size !== puts.length || puts.some((p) => dels.includes(p));
        };
        if (dup(s.success) || dup(s.failure)) return expect(result).toBe('DuplicateKey');
        if (typeof result === 'string') throw new Error(`unexpected ${result}`);
        const kv = model.kvs.get(s.key);
        let order: number | undefined;
        if (s.target === 'VALUE') order = kv ? Buffer.compare(enc(kv.value), operand.value!) : undefined;
        else order = Math.sign((s.target === 'MOD' ? (kv?.mod ?? 0) : (kv?.version ?? 0)) - s.operand);
        const ok =
          order !== undefined &&
          { EQUAL: order === 0, GREATER: order > 0, LESS: order < 0, NOT_EQUAL: order !== 0 }[s.result];
        expect(result.succeeded).toBe(ok);
        for (const o of ok ? s.success : s.failure) {
          if ('put' in o) model.put(o.put, o.value, 0n);
          else model.del(model.keysIn(model.kvs, o.del, undefined));
        }
        expect(result.revision).toBe(model.rev);
        return;
      }
      case 'compact': {
        const revision = Math.max(1, model.rev - s.back);
        const result = await refusal(() => t.apply({ type: 'compact', revision }));
        if (revision <= model.compact) return expect(result).toBe('Compacted');
        if (typeof result === 'string') throw new Error(`unexpected ${result}`);
        model.compact = revision;
        await result.physical;
        return;
      }
      case 'grant': {
        const result = await refusal(() => t.apply({ type: 'leaseGrant', request: { ttl: 60, id: s.id } }));
        if (model.leases.has(s.id)) return expect(result).toBe('LeaseExists');
        model.leases.set(s.id, new Set());
        expect(result).toMatchObject({ id: s.id, revision: model.rev });
        return;
      }
      case 'revoke': {
        const result = await refusal(() => t.apply({ type: 'leaseRevoke', id: s.id }));
        const keys = model.leases.get(s.id);
        if (!keys) return expect(result).toBe('LeaseNotFound');
        model.del([...keys].sort());
        model.leases.delete(s.id);
        expect(result).toEqual({ revision: model.rev });
        return;
      }
      case 'range': {
        const revision = Math.max(1, model.rev - s.back);
        const req = {
          key: enc(s.key),
          rangeEnd: s.end === undefined ? undefined : enc(s.end),
          revision,
          limit: s.limit,
          sortOrder: s.order,
          sortTarget: s.target,
          minModRevision: s.minMod,
        };
        const result = await refusal(() => t.store.range(req));
        if (revision < model.compact) return expect(result).toBe('Compacted');
        if (typeof result === 'string') throw new Error(`unexpected ${result}`);
        expect(result.revision).toBe(model.rev);
        expectRange(result, model, model.at(revision), s.key, s.end, { limit: s.limit, order: s.order, target: s.target, minMod: s.minMod });
        return;
      }
    }
  } finally {
    model.end();
  }
}

describe('the store against a model', () => {
  it('agrees on every answer, every watch event, and after a restart', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 40 }), async (steps) => {
        const t = await TestStore.create();
        try {
          const model = new Model();
          const watcher = t.store.watch({ key: enc('a'), rangeEnd: Buffer.of(0) });
          for (const s of steps) await step(t, model, s);
          const messages = await collect(watcher, (m) => summary(m).length >= model.events.length, 1000);
          expect(summary(messages)).toEqual(model.events);
          const all = { key: enc('a'), rangeEnd: Buffer.of(0) };
          const hash = await t.store.hashKV();
          await t.reopen();
          expect(t.store.revision).toBe(model.rev);
          expect(await t.store.hashKV()).toEqual(hash);
          expectRange(await t.store.range(all), model, model.kvs, 'a', '\0', { limit: 0 });
          for (const [id, keys] of model.leases) {
            expect(t.store.leaseTimeToLive(id, true).keys.map((k) => k.toString('latin1'))).toEqual([...keys].sort());
          }
        } finally {
          await t.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  }, 30_000);
});

describe('group commit', () => {
  it('gives the same answers and the same state whether applies come one by one or all at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 40 }), async (steps) => {
        const ops = steps.map(toOperation).filter((op): op is Operation => op !== undefined);
        const one = await TestStore.create();
        const all = await TestStore.create({ maxApplyBatch: 256 });
        try {
          const outcome = (p: Promise<unknown>) =>
            p.then(
              (value) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
              (err: unknown) => (err instanceof MvccError ? err.code : String(err)),
            );
          const sequential: string[] = [];
          for (const op of ops) sequential.push(await outcome(one.apply(op)));
          const grouped = await Promise.all(ops.map((op) => outcome(all.apply(op))));
          expect(grouped).toEqual(sequential);
          expect(await all.store.hashKV()).toEqual(await one.store.hashKV());
          expect(all.store.leases()).toEqual(one.store.leases());
        } finally {
          await one.cleanup();
          await all.cleanup();
        }
      }),
      { numRuns: 20 },
    );
  }, 30_000);
});
