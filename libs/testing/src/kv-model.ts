// The sequential model of an etcd-like key-value store, for the linearizability checker.
// Each key is checked on its own (the model partitions by key), which keeps the search
// small; what ties keys together is the store's single revision counter, checked apart by
// `checkRevisionOrder`: an operation that completed before another began saw a revision no
// greater (writes: strictly smaller). Within a key the model also carries the last revision
// it has seen, so a read may not go back in revisions and a write must move them on.
import type { Model, Operation } from './linearizability';

/** What a client asked. Values should be unique per write, so a read names the write it saw. */
export type KvInput =
  | { type: 'get'; key: string }
  | { type: 'put'; key: string; value: string }
  | { type: 'delete'; key: string }
  | { type: 'cas'; key: string; expect: { modRevision: number } | { value: string | null }; value: string };

/** What the store answered. `revision` is the response header's revision. */
export type KvOutput =
  | { type: 'get'; value: string | null; modRevision: number; revision: number }
  | { type: 'put'; revision: number }
  | { type: 'delete'; deleted: number; revision: number }
  /** `current` is the key as the failure branch read it, when the transaction reads it. */
  | { type: 'cas'; succeeded: boolean; revision: number; current?: { value: string | null; modRevision: number } };

export type KvOperation = Operation<KvInput, KvOutput>;

/** One key's state. `modRevision` is null after a write whose revision is not known. */
export interface KeyState {
  value: string | null;
  modRevision: number | null;
  /** The highest revision this key has been observed at so far in the order being tried. */
  lastRevision: number;
}

function readMatches(s: KeyState, value: string | null, modRevision: number, revision: number): KeyState | undefined {
  if (s.value !== value) return undefined;
  if (revision < s.lastRevision || modRevision > revision) return undefined;
  if (value === null) return modRevision === 0 ? { ...s, lastRevision: revision } : undefined;
  if (s.modRevision === null) {
    // The write we could not see the revision of: the read tells it.
    return modRevision > s.lastRevision ? { value, modRevision, lastRevision: revision } : undefined;
  }
  return s.modRevision === modRevision ? { ...s, lastRevision: revision } : undefined;
}

/** true, false, or undefined when it cannot be told (a write of unknown revision). */
function compareHolds(s: KeyState, expect: { modRevision: number } | { value: string | null }): boolean | undefined {
  if ('value' in expect) return s.value === expect.value;
  if (expect.modRevision === 0) return s.value === null;
  if (s.modRevision === null) return s.value === null ? false : undefined;
  return s.value !== null && s.modRevision === expect.modRevision;
}

function written(s: KeyState, value: string | null, revision: number | undefined): KeyState | undefined {
  if (revision === undefined) return { value, modRevision: value === null ? 0 : null, lastRevision: s.lastRevision };
  if (revision <= s.lastRevision) return undefined;
  return { value, modRevision: value === null ? 0 : revision, lastRevision: revision };
}

const some = (...states: (KeyState | undefined)[]): KeyState[] => states.filter((s): s is KeyState => s !== undefined);

export function kvStep(s: KeyState, input: KvInput, output: KvOutput | undefined): KeyState[] {
  switch (input.type) {
    case 'get':
      // A read with no answer had no effect.
      if (!output) return [s];
      if (output.type !== 'get') return [];
      return some(readMatches(s, output.value, output.modRevision, output.revision));
    case 'put':
      if (!output) return some(s, written(s, input.value, undefined));
      if (output.type !== 'put') return [];
      return some(written(s, input.value, output.revision));
    case 'delete': {
      if (!output) return s.value === null ? [s] : some(s, written(s, null, undefined));
      if (output.type !== 'delete') return [];
      if (output.deleted === 0) return s.value === null && output.revision >= s.lastRevision ? [{ ...s, lastRevision: output.revision }] : [];
      return s.value !== null ? some(written(s, null, output.revision)) : [];
    }
    case 'cas': {
      const holds = compareHolds(s, input.expect);
      if (!output) return some(s, holds !== false ? written(s, input.value, undefined) : undefined);
      if (output.type !== 'cas') return [];
      if (output.succeeded) return holds !== false ? some(written(s, input.value, output.revision)) : [];
      if (holds === true || output.revision < s.lastRevision) return [];
      if (output.current) return some(readMatches(s, output.current.value, output.current.modRevision, output.revision));
      return [{ ...s, lastRevision: output.revision }];
    }
  }
}

const describeOp = (op: KvOperation): string => {
  const i = op.input;
  const what =
    i.type === 'put'
      ? `put(${i.key}, ${i.value})`
      : i.type === 'cas'
        ? `cas(${i.key}, if ${'value' in i.expect ? `value=${i.expect.value}` : `mod=${i.expect.modRevision}`} then ${i.value})`
        : `${i.type}(${i.key})`;
  return `#${op.id} c${op.client} ${what} → ${op.output ? JSON.stringify(op.output) : 'unknown'}`;
};

/** The etcd-like KV model, partitioned by key. */
export const kvModel: Model<KeyState, KvInput, KvOutput> = {
  init: () => ({ value: null, modRevision: 0, lastRevision: 0 }),
  step: kvStep,
  hash: (s) => `${s.value}@${s.modRevision}/${s.lastRevision}`,
  partition: (history) => {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of history) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
  describe: describeOp,
};

/** The revision an answered operation observed, and whether it wrote at that revision. */
function observedRevision(op: KvOperation): { revision: number; write: boolean } | undefined {
  const o = op.output;
  if (!o) return undefined;
  switch (o.type) {
    case 'get':
      return { revision: o.revision, write: false };
    case 'put':
      return { revision: o.revision, write: true };
    case 'delete':
      return { revision: o.revision, write: o.deleted > 0 };
    case 'cas':
      return { revision: o.revision, write: o.succeeded };
  }
}

/**
 * The cross-key half of the check: revisions are one counter for the whole store, so if A
 * returned before B was called, B's revision is at least A's (strictly more when B writes),
 * and no two writes share a revision. Returns one line per violation.
 */
export function checkRevisionOrder(history: KvOperation[]): string[] {
  const anomalies: string[] = [];
  // Writes settled from the store's history have a revision but no return: they count as
  // B (called after A returned), never as A.
  const known = history.map((op) => ({ op, obs: observedRevision(op)! })).filter((x) => x.obs !== undefined);
  const byRet = known.filter((x) => x.op.ret !== Infinity).sort((a, b) => a.op.ret - b.op.ret);
  const byCall = [...known].sort((a, b) => a.op.call - b.op.call);
  let j = 0;
  let max: { revision: number; op?: KvOperation } = { revision: 0 };
  for (const b of byCall) {
    while (j < byRet.length && byRet[j]!.op.ret < b.op.call) {
      const a = byRet[j++]!;
      if (a.obs.revision > max.revision) max = { revision: a.obs.revision, op: a.op };
    }
    const bad = b.obs.write ? b.obs.revision <= max.revision : b.obs.revision < max.revision;
    if (bad) anomalies.push(`revision went back: ${describeOp(b.op)} began after ${describeOp(max.op!)} had returned`);
  }
  const writers = new Map<number, KvOperation>();
  for (const { op, obs } of known) {
    if (!obs.write) continue;
    const other = writers.get(obs.revision);
    if (other) anomalies.push(`two writes at revision ${obs.revision}: ${describeOp(other)} and ${describeOp(op)}`);
    else writers.set(obs.revision, op);
  }
  return anomalies;
}

/** A write as the store's own history (a watch from revision 1) records it. */
export interface HistoryEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  value?: string;
  modRevision: number;
}

/**
 * Uses the store's history of writes to settle writes whose outcome the client never
 * learnt, as etcd's robustness suite does: a put or CAS whose (unique) value appears took
 * effect at that revision (it stays open in time, it may have completed any time later);
 * one whose value never appears did not happen and is dropped. Deletes carry no value, so
 * a key's unknown deletes are replaced by one delete per DELETE event of that key that no
 * acknowledged delete explains, at that event's revision, called when the earliest of them
 * was (a relaxation: no false alarm, and the search no longer branches on each one).
 */
export function patchUnknownWrites(history: KvOperation[], events: HistoryEvent[]): KvOperation[] {
  const byValue = new Map<string, number>();
  for (const e of events) if (e.type === 'PUT' && e.value !== undefined) byValue.set(`${e.key}\u0000${e.value}`, e.modRevision);
  const ackedDeletes = new Set<string>();
  for (const op of history) if (op.output?.type === 'delete' && op.output.deleted > 0) ackedDeletes.add(`${op.input.key}\u0000${op.output.revision}`);
  const openDeletes = new Map<string, KvOperation[]>();
  const out: KvOperation[] = [];
  for (const op of history) {
    const i = op.input;
    if (op.output || i.type === 'get') {
      out.push(op);
      continue;
    }
    if (i.type === 'delete') {
      openDeletes.set(i.key, [...(openDeletes.get(i.key) ?? []), op]);
      continue;
    }
    const revision = byValue.get(`${i.key}\u0000${i.value}`);
    if (revision === undefined) continue;
    out.push({ ...op, output: i.type === 'put' ? { type: 'put', revision } : { type: 'cas', succeeded: true, revision } });
  }
  for (const [key, open] of openDeletes) {
    const unexplained = events.filter((e) => e.type === 'DELETE' && e.key === key && !ackedDeletes.has(`${key}\u0000${e.modRevision}`));
    const call = Math.min(...open.map((op) => op.call));
    // More unexplained deletes than unknown deletes: the extra ones stay out, and reads will object.
    unexplained.slice(0, open.length).forEach((e, n) => {
      out.push({ ...open[n]!, output: { type: 'delete', deleted: 1, revision: e.modRevision }, call, ret: Infinity });
    });
  }
  return out;
}

/** Every write in the store's history was asked for by some client: no phantom puts or deletes. */
export function checkHistoryExplained(history: KvOperation[], events: HistoryEvent[]): string[] {
  const values = new Set<string>();
  const deletes = new Map<string, number>();
  for (const op of history) {
    const i = op.input;
    if (i.type === 'put' || i.type === 'cas') values.add(`${i.key}\u0000${i.value}`);
    if (i.type === 'delete') deletes.set(i.key, (deletes.get(i.key) ?? 0) + 1);
  }
  const keys = new Set(history.map((op) => op.input.key));
  const anomalies: string[] = [];
  const seenDeletes = new Map<string, number>();
  for (const e of events) {
    if (!keys.has(e.key)) continue;
    if (e.type === 'PUT' && !values.has(`${e.key}\u0000${e.value}`)) anomalies.push(`phantom write: PUT ${e.key}=${e.value} @${e.modRevision} was asked by no client`);
    if (e.type === 'DELETE') {
      const n = (seenDeletes.get(e.key) ?? 0) + 1;
      seenDeletes.set(e.key, n);
      if (n > (deletes.get(e.key) ?? 0)) anomalies.push(`phantom delete: DELETE ${e.key} @${e.modRevision} is more than the clients asked for`);
    }
  }
  return anomalies;
}
