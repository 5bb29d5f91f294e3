// One write: every change made by one applied operation, all at one main revision with
// increasing sub-revisions, as etcd's storeTxnWrite. The writer updates the in-memory
// index and lease attachments at once (so reads later in the same txn see the writes) and
// hands each new record to the store to stage in the LevelDB batch. Every check that can
// refuse the operation runs before the first change, so a refusal leaves nothing behind.
import { recordToKeyValue, type StoredRecord } from './codec';
import { MvccError } from './errors';
import type { KeyIndex } from './key-index';
import { fromLatin1, latin1, toSpan } from './key-range';
import type { Lessor } from './lessor';
import { rangeAt, type FetchRecords } from './range';
import { checkDuplicates, choosePath, compareKv, type TxnPath } from './txn';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResult,
  EventType,
  KeyValue,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  RequestOp,
  ResponseOp,
  Revision,
  TxnRequest,
  TxnResult,
} from './types';

export interface WriterContext {
  index: KeyIndex;
  lessor: Lessor;
  /** Reads records, including ones staged but not yet written. */
  fetch: FetchRecords;
  stage(record: StoredRecord): void;
  /** Revisions below this one are compacted (including compactions applied earlier in this batch). */
  compactRevision(): number;
}

/** A change as watchers get it; `prev` names the record prev_kv comes from. */
export interface ChangeEvent {
  type: EventType;
  key: string;
  kv: KeyValue;
  prev?: Revision;
}

const EMPTY = Buffer.alloc(0);

export class RevisionWriter {
  private sub = 0;
  readonly events: ChangeEvent[] = [];

  constructor(
    private readonly ctx: WriterContext,
    /** The revision this write creates if it changes anything. */
    readonly main: number,
  ) {}

  get changed(): boolean {
    return this.sub > 0;
  }

  /** The revision reads see: the new one once something changed, else the current one. */
  get revision(): number {
    return this.changed ? this.main : this.main - 1;
  }

  async put(req: PutRequest): Promise<PutResult> {
    this.checkPut(req);
    const { index, lessor } = this.ctx;
    const key = latin1(req.key);
    const live = index.get(key)?.live;
    let value = req.value ?? EMPTY;
    let lease = req.lease ?? 0n;
    let prevKv: KeyValue | undefined;
    if (live && (req.prevKv || req.ignoreValue)) {
      const [prev] = await this.ctx.fetch([live.rev]);
      prevKv = recordToKeyValue(prev!);
      if (req.ignoreValue) value = prevKv.value;
    }
    if (live && req.ignoreLease) lease = live.lease;

    const rev = { main: this.main, sub: this.sub++ };
    const createRevision = live ? live.createRevision : this.main;
    const version = live ? live.version + 1 : 1;
    const record: StoredRecord = { key: Buffer.from(req.key), rev, tombstone: false, createRevision, version, lease, value };
    if (live) record.prev = live.rev;
    this.ctx.stage(record);
    index.put(key, { rev, createRevision, version, lease });
    if (live && live.lease !== 0n && live.lease !== lease) lessor.detach(live.lease, key);
    if (lease !== 0n) lessor.attach(lease, key);
    this.events.push({ type: 'PUT', key, kv: recordToKeyValue(record), prev: live?.rev });

    const result: PutResult = { revision: this.main };
    if (req.prevKv && prevKv) result.prevKv = prevKv;
    return result;
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResult> {
    if (req.key.length === 0) throw new MvccError('EmptyKey');
    const { index } = this.ctx;
    const victims: { key: string; rev: Revision; lease: bigint }[] = [];
    index.visit(toSpan(req), (history) => {
      if (history.live) victims.push({ key: history.key, rev: history.live.rev, lease: history.live.lease });
    });
    const prevKvs = req.prevKv ? (await this.ctx.fetch(victims.map((v) => v.rev))).map(recordToKeyValue) : [];
    for (const victim of victims) this.deleteKey(victim.key, victim.rev, victim.lease);
    return { revision: this.revision, deleted: victims.length, prevKvs };
  }

  /** Deletes the keys attached to a lease being revoked, in key order so every member agrees. */
  revokeKeys(keys: string[]): void {
    for (const key of [...keys].sort()) {
      const live = this.ctx.index.get(key)?.live;
      if (live) this.deleteKey(key, live.rev, live.lease);
    }
  }

  async range(req: RangeRequest): Promise<RangeResult> {
    if (req.key.length === 0) throw new MvccError('EmptyKey');
    const atRev = req.revision && req.revision > 0 ? req.revision : this.revision;
    if (atRev > this.revision) throw new MvccError('FutureRevision');
    if (atRev < this.ctx.compactRevision()) throw new MvccError('Compacted');
    return rangeAt(this.ctx.index, this.ctx.fetch, req, atRev, this.revision);
  }

  async txn(req: TxnRequest): Promise<TxnResult> {
    checkDuplicates(req);
    const path = await choosePath(req, (c) => this.holds(c));
    this.checkPath(req, path);
    return this.runTxn(req, path);
  }

  private async runTxn(req: TxnRequest, path: TxnPath): Promise<TxnResult> {
    const ops = (path.succeeded ? req.success : req.failure) ?? [];
    const responses: ResponseOp[] = [];
    let nested = 0;
    for (const op of ops) {
      if ('requestRange' in op) responses.push({ responseRange: await this.range(op.requestRange) });
      else if ('requestPut' in op) responses.push({ responsePut: await this.put(op.requestPut) });
      else if ('requestDeleteRange' in op) {
        responses.push({ responseDeleteRange: await this.deleteRange(op.requestDeleteRange) });
      } else responses.push({ responseTxn: await this.runTxn(op.requestTxn, path.nested[nested++]!) });
    }
    return { revision: this.revision, succeeded: path.succeeded, responses };
  }

  /** Judges a compare against the current state; only VALUE needs to read records. */
  private async holds(c: Compare): Promise<boolean> {
    const { index } = this.ctx;
    if (c.target !== 'VALUE') {
      let any = false;
      let all = true;
      index.visit(toSpan(c), (history) => {
        const live = history.live;
        if (!live) return;
        any = true;
        const kv = {
          key: EMPTY,
          value: EMPTY,
          createRevision: live.createRevision,
          modRevision: live.rev.main,
          version: live.version,
          lease: live.lease,
        };
        if (!compareKv(c, kv)) {
          all = false;
          return false;
        }
        return true;
      });
      return any ? all : compareKv(c, zeroKv());
    }
    // A missing key has no value to compare: etcd fails such a compare.
    const { kvs } = await rangeAt(index, this.ctx.fetch, { key: c.key, rangeEnd: c.rangeEnd }, this.revision, this.revision);
    return kvs.length > 0 && kvs.every((kv) => compareKv(c, kv));
  }

  /** Every refusal a put in the chosen branches can meet, checked before any change. */
  private checkPath(req: TxnRequest, path: TxnPath): void {
    let nested = 0;
    for (const op of ((path.succeeded ? req.success : req.failure) ?? []) as RequestOp[]) {
      if ('requestPut' in op) this.checkPut(op.requestPut);
      else if ('requestTxn' in op) this.checkPath(op.requestTxn, path.nested[nested++]!);
      else if ('requestDeleteRange' in op && op.requestDeleteRange.key.length === 0) throw new MvccError('EmptyKey');
      else if ('requestRange' in op) this.checkRange(op.requestRange);
    }
  }

  /** A range in a txn is judged against the revision the txn started at, as etcd does. */
  private checkRange(req: RangeRequest): void {
    if (req.key.length === 0) throw new MvccError('EmptyKey');
    if (!req.revision || req.revision <= 0) return;
    if (req.revision > this.revision) throw new MvccError('FutureRevision');
    if (req.revision < this.ctx.compactRevision()) throw new MvccError('Compacted');
  }

  private checkPut(req: PutRequest): void {
    if (req.key.length === 0) throw new MvccError('EmptyKey');
    const live = this.ctx.index.get(latin1(req.key))?.live;
    if ((req.ignoreValue || req.ignoreLease) && !live) throw new MvccError('KeyNotFound');
    const lease = req.ignoreLease ? 0n : (req.lease ?? 0n);
    if (lease !== 0n && !this.ctx.lessor.get(lease)) throw new MvccError('LeaseNotFound');
  }

  private deleteKey(key: string, prev: Revision, lease: bigint): void {
    const rev = { main: this.main, sub: this.sub++ };
    const record: StoredRecord = {
      key: fromLatin1(key),
      rev,
      tombstone: true,
      createRevision: 0,
      version: 0,
      lease: 0n,
      value: EMPTY,
      prev,
    };
    this.ctx.stage(record);
    this.ctx.index.tombstone(key, rev);
    if (lease !== 0n) this.ctx.lessor.detach(lease, key);
    this.events.push({ type: 'DELETE', key, kv: recordToKeyValue(record), prev });
  }
}

function zeroKv(): KeyValue {
  return { key: EMPTY, value: EMPTY, createRevision: 0, modRevision: 0, version: 0, lease: 0n };
}
