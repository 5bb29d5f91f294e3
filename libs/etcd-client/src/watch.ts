// Many watches over one bidirectional Watch stream, as etcd's own client does it.
// Creates are sent one at a time because the server answers them in order and assigns
// each its watch_id in that answer. Each watcher remembers the next revision it needs, so
// when the stream breaks it is re-created from exactly there: no gap, and events already
// delivered are dropped if the server sends them again — no duplicates. A watch whose start
// revision was compacted is cancelled by the server with the compact revision; that reaches
// the caller as an EtcdError of kind 'compacted', which means "relist".
import * as grpc from '@grpc/grpc-js';
import type { WatchClient } from '@keel/protos/etcdserverpb/Watch';
import type { WatchRequest } from '@keel/protos/etcdserverpb/WatchRequest';
import type { WatchResponse__Output } from '@keel/protos/etcdserverpb/WatchResponse';
import { EtcdError } from './errors';
import { type Bytes, type WatchEvent, fromKv, prefixEnd, toBuffer } from './types';

export interface WatchOptions {
  key: Bytes;
  prefix?: boolean;
  rangeEnd?: Bytes;
  /** First revision to deliver; absent for "from now". */
  startRevision?: number;
  prevKv?: boolean;
  /** Ask the server for periodic progress notifications. */
  progressNotify?: boolean;
  noPut?: boolean;
  noDelete?: boolean;
}

export interface WatchHandlers {
  /** Events of one revision range, in order; `revision` is the header revision. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** Every event up to `revision` has been delivered. */
  onProgress?(revision: number): void;
  /** The watch ended for good (compacted, cancelled by the server); it is not retried. */
  onError?(err: EtcdError): void;
  /** The server accepted the watch (also after each re-creation). */
  onCreated?(revision: number): void;
}

export interface Watcher {
  cancel(): void;
  /** The next revision this watcher expects. */
  readonly nextRevision: number;
}

interface WatchEntry {
  opts: WatchOptions;
  handlers: WatchHandlers;
  /** 0 until the server has said which revision "now" is. */
  nextRevision: number;
  id: string | undefined;
  canceled: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WatchStream {
  private call: grpc.ClientDuplexStream<WatchRequest, WatchResponse__Output> | undefined;
  private readonly byId = new Map<string, WatchEntry>();
  private readonly active = new Set<WatchEntry>();
  /** Watchers waiting for their create to be sent or answered, in order. */
  private queue: WatchEntry[] = [];
  private createInFlight = false;
  private closed = false;
  private backoffMs = 100;
  private reconnecting = false;

  constructor(private readonly client: WatchClient) {}

  add(opts: WatchOptions, handlers: WatchHandlers): Watcher {
    const entry: WatchEntry = { opts, handlers, nextRevision: opts.startRevision ?? 0, id: undefined, canceled: false };
    this.active.add(entry);
    this.queue.push(entry);
    this.ensureStream();
    this.pump();
    return {
      cancel: () => this.cancel(entry),
      get nextRevision() {
        return entry.nextRevision;
      },
    };
  }

  requestProgress(): void {
    this.call?.write({ progress_request: {} });
  }

  close(): void {
    this.closed = true;
    this.active.clear();
    this.byId.clear();
    this.queue = [];
    this.call?.cancel();
    this.call = undefined;
  }

  private cancel(entry: WatchEntry): void {
    if (entry.canceled) return;
    entry.canceled = true;
    this.active.delete(entry);
    this.queue = this.queue.filter((e) => e !== entry);
    if (entry.id !== undefined) {
      this.byId.delete(entry.id);
      this.call?.write({ cancel_request: { watch_id: entry.id } });
    }
  }

  private ensureStream(): void {
    if (this.call || this.closed) return;
    const call = this.client.Watch();
    this.call = call;
    call.on('data', (res: WatchResponse__Output) => this.onResponse(res));
    const broken = () => {
      if (this.call !== call) return;
      this.call = undefined;
      void this.reconnect();
    };
    call.on('error', broken);
    call.on('end', broken);
  }

  private async reconnect(): Promise<void> {
    if (this.closed || this.reconnecting) return;
    this.reconnecting = true;
    this.byId.clear();
    this.createInFlight = false;
    // Everyone still active is created again, from the revision they need next.
    this.queue = [...this.active];
    for (const e of this.queue) e.id = undefined;
    await sleep(this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    this.reconnecting = false;
    if (this.closed || this.active.size === 0) return;
    this.ensureStream();
    this.pump();
  }

  /** Sends the next create once the previous one has been answered. */
  private pump(): void {
    if (this.createInFlight || !this.call) return;
    const entry = this.queue[0];
    if (!entry) return;
    this.createInFlight = true;
    const k = toBuffer(entry.opts.key);
    const filters: ('NOPUT' | 'NODELETE')[] = [];
    if (entry.opts.noPut) filters.push('NOPUT');
    if (entry.opts.noDelete) filters.push('NODELETE');
    this.call.write({
      create_request: {
        key: k,
        range_end: entry.opts.prefix ? prefixEnd(k) : entry.opts.rangeEnd !== undefined ? toBuffer(entry.opts.rangeEnd) : undefined,
        start_revision: entry.nextRevision,
        progress_notify: entry.opts.progressNotify ?? false,
        filters,
        prev_kv: entry.opts.prevKv ?? false,
      },
    });
  }

  private onResponse(res: WatchResponse__Output): void {
    const revision = Number(res.header?.revision ?? 0);
    if (res.created) {
      this.backoffMs = 100;
      const entry = this.queue.shift();
      this.createInFlight = false;
      if (entry && !entry.canceled) {
        entry.id = res.watch_id;
        this.byId.set(res.watch_id, entry);
        // "From now" means: everything after the revision at creation.
        if (entry.nextRevision === 0) entry.nextRevision = revision + 1;
        if (res.canceled) {
          this.endWith(entry, res);
        } else {
          entry.handlers.onCreated?.(revision);
        }
      } else if (entry?.canceled) {
        this.call?.write({ cancel_request: { watch_id: res.watch_id } });
      }
      this.pump();
      if (!res.canceled || !entry) return;
      return;
    }
    if (res.watch_id === '-1') {
      // A progress answer for the whole stream: every watcher is synced up to `revision`.
      for (const e of this.byId.values()) this.progress(e, revision);
      return;
    }
    const entry = this.byId.get(res.watch_id);
    if (!entry) return;
    if (res.canceled) {
      this.endWith(entry, res);
      return;
    }
    if (res.events.length === 0) {
      this.progress(entry, revision);
      return;
    }
    const fresh: WatchEvent[] = [];
    for (const ev of res.events) {
      if (!ev.kv) continue;
      const kv = fromKv(ev.kv);
      if (kv.modRevision < entry.nextRevision) continue; // already delivered before a reconnect
      fresh.push({ type: ev.type === 'DELETE' ? 'DELETE' : 'PUT', kv, ...(ev.prev_kv ? { prevKv: fromKv(ev.prev_kv) } : {}) });
    }
    if (fresh.length === 0) return;
    entry.nextRevision = fresh[fresh.length - 1]!.kv.modRevision + 1;
    entry.handlers.onEvents(fresh, revision);
  }

  private progress(entry: WatchEntry, revision: number): void {
    if (revision + 1 > entry.nextRevision) entry.nextRevision = revision + 1;
    entry.handlers.onProgress?.(revision);
  }

  private endWith(entry: WatchEntry, res: WatchResponse__Output): void {
    this.active.delete(entry);
    if (entry.id !== undefined) this.byId.delete(entry.id);
    entry.canceled = true;
    const compactRevision = Number(res.compact_revision);
    const err =
      compactRevision > 0
        ? new EtcdError(
            'compacted',
            `watch: required revision ${entry.nextRevision} has been compacted (compact revision ${compactRevision})`,
            grpc.status.OUT_OF_RANGE,
            compactRevision,
          )
        : new EtcdError('canceled', `watch canceled by the server: ${res.cancel_reason || 'no reason given'}`, grpc.status.CANCELLED);
    entry.handlers.onError?.(err);
  }
}
