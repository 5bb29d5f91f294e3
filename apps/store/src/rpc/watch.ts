// etcdserverpb.Watch: one bidirectional stream carries many watches. Each watch is an MVCC
// Watcher pumped onto the stream in its own loop; writes wait for the stream to drain,
// so a slow client slows only its own watchers (MVCC falls them back to reading history
// instead of buffering without bound). A watch from a compacted revision is answered with
// created, then canceled with the compact revision, as etcd does.
import type * as grpc from '@grpc/grpc-js';
import { fromEtcd, toEtcd, type Watcher } from '@keel/mvcc';
import type { WatchHandlers } from '@keel/protos/etcdserverpb/Watch';
import type { WatchRequest__Output } from '@keel/protos/etcdserverpb/WatchRequest';
import type { WatchResponse } from '@keel/protos/etcdserverpb/WatchResponse';
import type { StoreNode } from '../store-node';

/** How often watches that asked for progress_notify get one (etcd: 10 minutes). */
export interface WatchServiceOptions {
  progressIntervalMs: number;
}

type Stream = grpc.ServerDuplexStream<WatchRequest__Output, WatchResponse>;

class WatchSession {
  private readonly watchers = new Map<string, { watcher: Watcher; progressNotify: boolean }>();
  private nextId = 0;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly node: StoreNode,
    private readonly call: Stream,
    opts: WatchServiceOptions,
  ) {
    call.on('drain', () => {
      for (const wake of this.drainWaiters.splice(0)) wake();
    });
    call.on('data', (req: WatchRequest__Output) => this.handle(req));
    call.on('end', () => this.close(true));
    call.on('cancelled', () => this.close(false));
    call.on('error', () => this.close(false));
    this.timer = setInterval(() => {
      for (const { watcher, progressNotify } of this.watchers.values()) if (progressNotify) watcher.requestProgress();
    }, opts.progressIntervalMs);
    this.timer.unref();
  }

  private handle(req: WatchRequest__Output): void {
    if (this.closed) return;
    switch (req.request_union) {
      case 'create_request':
        this.create(req.create_request!);
        break;
      case 'cancel_request': {
        const id = req.cancel_request!.watch_id;
        const entry = this.watchers.get(id);
        if (!entry) return;
        this.watchers.delete(id);
        entry.watcher.cancel();
        void this.write({ header: this.node.header(), watch_id: id, canceled: true });
        break;
      }
      case 'progress_request':
        // Each watcher answers once it has delivered everything up to the revision it names;
        // with none, the stream gets etcd's answer for no watch in particular (watch_id -1).
        if (this.watchers.size === 0) void this.write({ header: this.node.header(), watch_id: '-1' });
        for (const { watcher } of this.watchers.values()) watcher.requestProgress();
        break;
    }
  }

  private create(create: NonNullable<WatchRequest__Output['create_request']>): void {
    let id = create.watch_id;
    if (id === '0' || id === '') {
      while (this.watchers.has(String(this.nextId))) this.nextId++;
      id = String(this.nextId++);
    } else if (this.watchers.has(id)) {
      void this.write({ header: this.node.header(), watch_id: id, created: true, canceled: true, cancel_reason: 'etcdserver: duplicate watch ID' });
      return;
    }
    let watcher: Watcher;
    try {
      watcher = this.node.mvcc.watch(fromEtcd.watchCreateRequest(create));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      void this.write({ header: this.node.header(), watch_id: id, created: true, canceled: true, cancel_reason: reason });
      return;
    }
    this.watchers.set(id, { watcher, progressNotify: create.progress_notify });
    void this.write({ header: this.node.header(), watch_id: id, created: true }).then(() => this.pump(id, watcher));
  }

  private async pump(id: string, watcher: Watcher): Promise<void> {
    for await (const msg of watcher) {
      if (this.closed) return;
      switch (msg.type) {
        case 'events':
          await this.write({ header: this.node.header(msg.revision), watch_id: id, events: msg.events.map(toEtcd.event) });
          break;
        case 'progress':
          await this.write({ header: this.node.header(msg.revision), watch_id: id });
          break;
        case 'canceled':
          this.watchers.delete(id);
          await this.write({
            header: this.node.header(),
            watch_id: id,
            canceled: true,
            compact_revision: msg.compactRevision,
            cancel_reason: msg.compactRevision > 0 ? 'etcdserver: mvcc: required revision has been compacted' : msg.reason,
          });
          return;
      }
    }
  }

  private write(res: WatchResponse): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.call.write(res)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private close(end: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const { watcher } of this.watchers.values()) watcher.cancel();
    this.watchers.clear();
    for (const wake of this.drainWaiters.splice(0)) wake();
    if (end) this.call.end();
  }
}

export function watchService(node: StoreNode, opts: WatchServiceOptions): WatchHandlers {
  return {
    Watch: (call) => void new WatchSession(node, call, opts),
  };
}
