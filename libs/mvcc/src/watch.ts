// Watches, in the manner of etcd's watchableStore. A watcher is "synced" when it has been
// given every committed revision: it then gets each new revision's events as it commits.
// Otherwise it is "unsynced" and catches up by reading history from the store, whole
// revisions at a time, and joins the synced set at the moment it has read up to the
// newest revision (a synchronous check, so no revision is missed or seen twice). A slow
// consumer never blocks writers: when its buffer is full the watcher drops to unsynced
// and later reads what it missed from the store. A watcher that needs revisions which
// compaction removed is cancelled with the compact revision, as etcd does.
import { recordToKeyValue, type StoredRecord } from './codec';
import { inSpan, toSpan, type Span } from './key-range';
import type { Event, KeyRange, KeyValue, Revision } from './types';
import type { ChangeEvent } from './writer';

export type WatchFilter = 'NOPUT' | 'NODELETE';

export interface WatchOptions extends KeyRange {
  /** Inclusive; 0 or absent: from the next revision. */
  startRevision?: number;
  prevKv?: boolean;
  filters?: WatchFilter[];
}

export type WatchMessage =
  /** `revision` is the revision of the last event. */
  | { type: 'events'; revision: number; events: Event[] }
  /** Every event up to `revision` has been delivered. */
  | { type: 'progress'; revision: number }
  /** The last message of a watcher cancelled by the store. */
  | { type: 'canceled'; compactRevision: number; reason: string };

/** What the hub needs from the store. */
export interface WatchSource {
  revision(): number;
  compactRevision(): number;
  /** Records of whole revisions from `from` up to at most `to`, about `max` records; `through` is the last revision covered. */
  history(from: number, to: number, max: number): Promise<{ records: StoredRecord[]; through: number }>;
  /** The records named, or undefined where compaction already removed one. */
  prevKvs(revs: Revision[]): Promise<(KeyValue | undefined)[]>;
}

export interface WatchLimits {
  /** Events a watcher may hold undelivered before it falls back to reading history. */
  bufferEvents: number;
  /** Records read from history per catch-up step. */
  catchUpRecords: number;
  /** Most events in one message (a revision is never split, so one can exceed it). */
  eventsPerMessage: number;
}

type Item =
  | { kind: 'events'; revision: number; events: ChangeEvent[] }
  | { kind: 'progress'; revision: number }
  | { kind: 'canceled'; compactRevision: number; reason: string };

export class WatchHub {
  private readonly singleKey = new Map<string, Set<Watcher>>();
  private readonly ranged = new Set<Watcher>();
  private readonly all = new Set<Watcher>();
  /** Every revision up to this one has been handed to the synced watchers. */
  lastNotified: number;

  constructor(
    readonly source: WatchSource,
    readonly limits: WatchLimits,
  ) {
    this.lastNotified = source.revision();
  }

  get size(): number {
    return this.all.size;
  }

  watch(opts: WatchOptions): Watcher {
    const watcher = new Watcher(this, opts);
    this.all.add(watcher);
    const start = opts.startRevision ?? 0;
    if (start > 0 && start <= this.lastNotified) {
      watcher.fallBehind(start);
    } else {
      this.join(watcher);
    }
    return watcher;
  }

  /** Hands one committed revision's changes to the synced watchers; call in revision order. */
  notify(revision: number, events: ChangeEvent[]): void {
    this.lastNotified = revision;
    if (events.length === 0) return;
    const touched = new Map<Watcher, ChangeEvent[]>();
    const add = (watcher: Watcher, event: ChangeEvent) => {
      const list = touched.get(watcher);
      if (list) list.push(event);
      else touched.set(watcher, [event]);
    };
    for (const event of events) {
      for (const watcher of this.singleKey.get(event.key) ?? []) add(watcher, event);
      for (const watcher of this.ranged) if (inSpan(watcher.span, event.key)) add(watcher, event);
    }
    for (const [watcher, list] of touched) watcher.offer(revision, list);
  }

  /**
   * After the store's state was replaced (snapshot restore): synced watchers, which had been
   * given every revision up to `handedOut`, re-read from the store after it.
   */
  resync(handedOut: number): void {
    this.lastNotified = this.source.revision();
    for (const watcher of this.all) if (watcher.isSynced) watcher.fallBehind(handedOut + 1);
  }

  closeAll(): void {
    for (const watcher of [...this.all]) watcher.cancel();
  }

  /** @internal */
  join(watcher: Watcher): void {
    if (watcher.span.single) {
      let set = this.singleKey.get(watcher.span.start);
      if (!set) this.singleKey.set(watcher.span.start, (set = new Set()));
      set.add(watcher);
    } else {
      this.ranged.add(watcher);
    }
    watcher.synced(this.lastNotified);
  }

  /** @internal */
  leave(watcher: Watcher, forever: boolean): void {
    const set = this.singleKey.get(watcher.span.start);
    set?.delete(watcher);
    if (set?.size === 0) this.singleKey.delete(watcher.span.start);
    this.ranged.delete(watcher);
    if (forever) this.all.delete(watcher);
  }
}

export class Watcher implements AsyncIterable<WatchMessage> {
  readonly span: Span;
  private readonly minRev: number;
  private readonly noPut: boolean;
  private readonly noDelete: boolean;
  private readonly prevKv: boolean;
  private state: 'synced' | 'unsynced' | 'closed' = 'unsynced';
  private queue: Item[] = [];
  private buffered = 0;
  /** While unsynced: the first revision not yet handed to this watcher. */
  private next_ = 0;
  private progressPending = false;
  private catchingUp = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly hub: WatchHub,
    opts: WatchOptions,
  ) {
    this.span = toSpan(opts);
    this.minRev = opts.startRevision ?? 0;
    this.noPut = opts.filters?.includes('NOPUT') ?? false;
    this.noDelete = opts.filters?.includes('NODELETE') ?? false;
    this.prevKv = opts.prevKv ?? false;
  }

  get isSynced(): boolean {
    return this.state === 'synced';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Asks for a progress message: sent at once if synced, else as soon as the watcher catches up. */
  requestProgress(): void {
    if (this.state === 'synced') this.push({ kind: 'progress', revision: this.hub.lastNotified });
    else if (this.state === 'unsynced') this.progressPending = true;
  }

  /** Stops the watcher; `next()` answers undefined from now on. */
  cancel(): void {
    if (this.state === 'closed') return;
    this.hub.leave(this, true);
    this.state = 'closed';
    this.queue = [];
    this.buffered = 0;
    this.signal();
  }

  /** The next message, waiting for one; undefined once the watcher is closed. One consumer at a time. */
  async next(): Promise<WatchMessage | undefined> {
    for (;;) {
      const first = this.queue[0];
      if (first) return this.take(first);
      if (this.state === 'closed') return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchMessage> {
    for (;;) {
      const message = await this.next();
      if (!message) return;
      yield message;
    }
  }

  /** @internal A committed revision's matching changes, from the hub. */
  offer(revision: number, events: ChangeEvent[]): void {
    this.next_ = revision + 1;
    if (revision < this.minRev) return;
    const kept = this.filter(events);
    if (kept.length === 0) return;
    if (this.buffered > 0 && this.buffered + kept.length > this.hub.limits.bufferEvents) {
      // Too far behind: stop taking live events and read this revision onward from the store later.
      this.fallBehind(revision);
      return;
    }
    this.push({ kind: 'events', revision, events: kept });
  }

  /** @internal */
  synced(lastNotified: number): void {
    this.state = 'synced';
    this.next_ = Math.max(lastNotified + 1, this.minRev);
    if (this.progressPending) {
      this.progressPending = false;
      this.push({ kind: 'progress', revision: lastNotified });
    }
  }

  /** @internal Leaves the synced set; history from `from` on is read from the store. */
  fallBehind(from: number): void {
    this.hub.leave(this, false);
    this.state = 'unsynced';
    this.next_ = Math.max(from, this.minRev);
    void this.catchUp();
  }

  private async catchUp(): Promise<void> {
    if (this.catchingUp) return;
    this.catchingUp = true;
    const { source, limits } = this.hub;
    try {
      while (this.state === 'unsynced' && this.buffered < limits.bufferEvents) {
        if (this.next_ < source.compactRevision()) return this.compacted();
        const newest = this.hub.lastNotified;
        if (this.next_ > newest) return this.hub.join(this);
        const { records, through } = await source.history(this.next_, newest, limits.catchUpRecords);
        if (this.state !== 'unsynced') return;
        // Compaction passed us while we read: what we read may have holes.
        if (this.next_ < source.compactRevision()) return this.compacted();
        this.pushHistory(records);
        this.next_ = through + 1;
      }
    } catch (err) {
      this.close(`watch history read failed: ${(err as Error).message}`, 0);
    } finally {
      this.catchingUp = false;
    }
  }

  private pushHistory(records: StoredRecord[]): void {
    let i = 0;
    while (i < records.length) {
      const main = records[i]!.rev.main;
      const events: ChangeEvent[] = [];
      for (; i < records.length && records[i]!.rev.main === main; i++) {
        const record = records[i]!;
        const key = record.key.toString('latin1');
        if (!inSpan(this.span, key)) continue;
        events.push({ type: record.tombstone ? 'DELETE' : 'PUT', key, kv: recordToKeyValue(record), prev: record.prev });
      }
      if (main < this.minRev) continue;
      const kept = this.filter(events);
      if (kept.length > 0) this.push({ kind: 'events', revision: main, events: kept });
    }
  }

  private compacted(): void {
    const compactRevision = this.hub.source.compactRevision();
    this.close('mvcc: required revision has been compacted', compactRevision);
  }

  private close(reason: string, compactRevision: number): void {
    if (this.state === 'closed') return;
    this.hub.leave(this, true);
    this.state = 'closed';
    this.queue.push({ kind: 'canceled', compactRevision, reason });
    this.signal();
  }

  private filter(events: ChangeEvent[]): ChangeEvent[] {
    if (!this.noPut && !this.noDelete) return events;
    return events.filter((e) => !(e.type === 'PUT' ? this.noPut : this.noDelete));
  }

  private push(item: Item): void {
    this.queue.push(item);
    if (item.kind === 'events') this.buffered += item.events.length;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async take(first: Item): Promise<WatchMessage> {
    if (first.kind !== 'events') {
      this.queue.shift();
      return first.kind === 'progress'
        ? { type: 'progress', revision: first.revision }
        : { type: 'canceled', compactRevision: first.compactRevision, reason: first.reason };
    }
    // Merge consecutive revisions into one message, never splitting a revision.
    const changes: ChangeEvent[] = [];
    let revision = first.revision;
    while (this.queue[0]?.kind === 'events') {
      const item = this.queue[0];
      if (changes.length > 0 && changes.length + item.events.length > this.hub.limits.eventsPerMessage) break;
      this.queue.shift();
      changes.push(...item.events);
      revision = item.revision;
    }
    this.buffered -= changes.length;
    if (this.state === 'unsynced') void this.catchUp();
    const events: Event[] = changes.map((c) => ({ type: c.type, kv: c.kv }));
    if (this.prevKv) {
      const wanted = changes.map((c, i) => ({ i, rev: c.prev })).filter((w): w is { i: number; rev: Revision } => !!w.rev);
      const prevs = await this.hub.source.prevKvs(wanted.map((w) => w.rev));
      wanted.forEach((w, j) => {
        const prev = prevs[j];
        if (prev) events[w.i]!.prevKv = prev;
      });
    }
    return { type: 'events', revision, events };
  }
}
