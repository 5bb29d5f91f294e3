// Range reads at a revision, shared by client reads and by reads inside a transaction.
// The index walk is synchronous (so it sees one consistent index), then the records are
// fetched; filters, sort order and limit follow etcd's apply rules exactly: `count` is
// every key in the range at that revision, before the limit and the revision filters,
// and `more` says the limit cut the answer short.
import { recordToKeyValue, type StoredRecord } from './codec';
import type { KeyIndex } from './key-index';
import { toSpan } from './key-range';
import type { KeyValue, RangeRequest, RangeResult, Revision } from './types';

export type FetchRecords = (revs: Revision[]) => Promise<StoredRecord[]>;

/** Reads `req` at main revision `atRev`; `revision` is what the answer reports as current. */
export async function rangeAt(
  index: KeyIndex,
  fetch: FetchRecords,
  req: RangeRequest,
  atRev: number,
  revision: number,
): Promise<RangeResult> {
  const span = toSpan(req);
  const limit = req.limit && req.limit > 0 ? req.limit : 0;
  const sortOrder = req.sortOrder ?? 'NONE';
  const sortTarget = req.sortTarget ?? 'KEY';
  const filtered = Boolean(req.minModRevision || req.maxModRevision || req.minCreateRevision || req.maxCreateRevision);
  // Sorting and filtering need every key; otherwise one past the limit tells `more`.
  const fetchCap = sortOrder !== 'NONE' || filtered || limit === 0 ? Infinity : limit + 1;

  const revs: Revision[] = [];
  let count = 0;
  index.visit(span, (history) => {
    const rev = index.visibleAt(history, atRev);
    if (!rev) return;
    count++;
    if (!req.countOnly && revs.length < fetchCap) revs.push(rev);
  });
  if (req.countOnly) return { revision, kvs: [], more: false, count };

  let kvs = (await fetch(revs)).map(recordToKeyValue);
  if (filtered) kvs = kvs.filter((kv) => passesFilters(kv, req));
  const order = sortTarget !== 'KEY' && sortOrder === 'NONE' ? 'ASCEND' : sortOrder;
  if (order !== 'NONE' && !(order === 'ASCEND' && sortTarget === 'KEY')) {
    const compare = comparator(sortTarget);
    // Stable sort over key-ordered input: ties stay in key order on every member.
    kvs.sort(order === 'ASCEND' ? compare : (a, b) => compare(b, a));
  }
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  if (req.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: Buffer.alloc(0) }));
  return { revision, kvs, more, count };
}

function passesFilters(kv: KeyValue, req: RangeRequest): boolean {
  if (req.maxModRevision && kv.modRevision > req.maxModRevision) return false;
  if (req.minModRevision && kv.modRevision < req.minModRevision) return false;
  if (req.maxCreateRevision && kv.createRevision > req.maxCreateRevision) return false;
  if (req.minCreateRevision && kv.createRevision < req.minCreateRevision) return false;
  return true;
}

function comparator(target: NonNullable<RangeRequest['sortTarget']>): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case 'KEY':
      return (a, b) => Buffer.compare(a.key, b.key);
    case 'VERSION':
      return (a, b) => a.version - b.version;
    case 'CREATE':
      return (a, b) => a.createRevision - b.createRevision;
    case 'MOD':
      return (a, b) => a.modRevision - b.modRevision;
    case 'VALUE':
      return (a, b) => Buffer.compare(a.value, b.value);
  }
}
