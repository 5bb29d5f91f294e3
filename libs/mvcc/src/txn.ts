// The parts of a transaction decided before anything is written: etcd's duplicate-key
// rule (no key written twice in one branch), the compares, and which branch runs at every
// nesting level. All compares, nested ones included, are judged against the state at the
// start of the transaction, as etcd does, so a txn's outcome does not depend on the order
// of its own writes.
import { MvccError } from './errors';
import { spansOverlap, toSpan, latin1, type Span } from './key-range';
import type { Compare, KeyValue, RequestOp, TxnRequest } from './types';

/** The branch taken at one level, and the paths of the nested txns inside that branch, in order. */
export interface TxnPath {
  succeeded: boolean;
  nested: TxnPath[];
}

export async function choosePath(req: TxnRequest, holds: (c: Compare) => Promise<boolean>): Promise<TxnPath> {
  let succeeded = true;
  for (const c of req.compare ?? []) {
    if (!(await holds(c))) {
      succeeded = false;
      break;
    }
  }
  const nested: TxnPath[] = [];
  for (const op of (succeeded ? req.success : req.failure) ?? []) {
    if ('requestTxn' in op) nested.push(await choosePath(op.requestTxn, holds));
  }
  return { succeeded, nested };
}

/** Whether `kv` satisfies the compare (a missing key compares as all zeros). */
export function compareKv(c: Compare, kv: KeyValue): boolean {
  let order: number;
  switch (c.target) {
    case 'VALUE':
      order = Buffer.compare(kv.value, c.value ?? Buffer.alloc(0));
      break;
    case 'VERSION':
      order = Math.sign(kv.version - (c.version ?? 0));
      break;
    case 'CREATE':
      order = Math.sign(kv.createRevision - (c.createRevision ?? 0));
      break;
    case 'MOD':
      order = Math.sign(kv.modRevision - (c.modRevision ?? 0));
      break;
    case 'LEASE': {
      const want = c.lease ?? 0n;
      order = kv.lease === want ? 0 : kv.lease > want ? 1 : -1;
      break;
    }
  }
  switch (c.result) {
    case 'EQUAL':
      return order === 0;
    case 'NOT_EQUAL':
      return order !== 0;
    case 'GREATER':
      return order > 0;
    case 'LESS':
      return order < 0;
  }
}

/** Refuses a txn that writes one key twice in a branch (etcd's checkIntervals, same rules). */
export function checkDuplicates(req: TxnRequest): void {
  checkBranch(req.success ?? []);
  checkBranch(req.failure ?? []);
}

function checkBranch(ops: RequestOp[]): { puts: Set<string>; dels: Span[] } {
  const dels: Span[] = [];
  for (const op of ops) if ('requestDeleteRange' in op) dels.push(toSpan(op.requestDeleteRange));
  const hitsDelete = (key: string) => dels.some((span) => spansOverlap(span, { start: key, end: key, single: true }));
  const duplicate = () => new MvccError('DuplicateKey');

  const puts = new Set<string>();
  for (const op of ops) {
    if (!('requestTxn' in op)) continue;
    const then = checkBranch(op.requestTxn.success ?? []);
    const otherwise = checkBranch(op.requestTxn.failure ?? []);
    for (const key of then.puts) {
      if (puts.has(key) || hitsDelete(key)) throw duplicate();
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      // Only one of then/else runs, so a key in both is fine.
      if ((puts.has(key) && !then.puts.has(key)) || hitsDelete(key)) throw duplicate();
      puts.add(key);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (!('requestPut' in op)) continue;
    const key = latin1(op.requestPut.key);
    if (puts.has(key) || hitsDelete(key)) throw duplicate();
    puts.add(key);
  }
  return { puts, dels };
}
