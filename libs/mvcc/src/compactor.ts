// Physical compaction: removing from disk the records a compaction made unreachable. The
// logical part (the compact revision, and the index forgetting old revisions) happens at
// once when the compaction is applied; this part deletes records in batches of a bounded
// size and yields to the event loop between batches, so writers, readers and watchers keep
// going while a large history is cleared (the stall kine and etcd users run into). A record
// goes when the index no longer holds it, so there is no keep-set to build or hold.
import type { ClassicLevel } from 'classic-level';
import { decodeNumber, encodeNumber, metaKey, parseRevKey, recordKeyLatin1, REV_PREFIX, revKeyAtMain } from './codec';
import type { Revision } from './types';

export const COMPACT_DONE_KEY = metaKey('compactDone');

export interface CompactorOptions {
  /** Records examined per batch. */
  batchSize: number;
  /** Pause between batches, milliseconds; 0 yields once to the event loop. */
  pauseMs: number;
}

export class Compactor {
  private chain: Promise<void> = Promise.resolve();
  private epoch = 0;
  /** Batches written so far (for tests and metrics). */
  batches = 0;

  constructor(
    private readonly db: ClassicLevel<Buffer, Buffer>,
    private readonly isLive: (key: string, rev: Revision) => boolean,
    private readonly opts: CompactorOptions,
  ) {}

  /** Queues the physical compaction up to `revision`; settles when it is done (or abandoned). */
  schedule(revision: number): Promise<void> {
    const epoch = this.epoch;
    const run = this.chain.then(() => this.run(revision, epoch));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Settles when every compaction scheduled so far is done. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Abandons queued and running work (before a restore replaces the data, or on close). */
  abandon(): Promise<void> {
    this.epoch++;
    return this.chain;
  }

  private async run(revision: number, epoch: number): Promise<void> {
    const end = revKeyAtMain(revision + 1);
    let from: Buffer = Buffer.of(REV_PREFIX);
    for (;;) {
      if (epoch !== this.epoch) return;
      const dead: Buffer[] = [];
      let seen = 0;
      for await (const [key, value] of this.db.iterator({ gt: from, lt: end, limit: this.opts.batchSize })) {
        seen++;
        from = key;
        if (!this.isLive(recordKeyLatin1(value), parseRevKey(key))) dead.push(key);
      }
      if (epoch !== this.epoch) return;
      if (dead.length > 0) {
        await this.db.batch(dead.map((key) => ({ type: 'del' as const, key })));
        this.batches++;
      }
      if (seen < this.opts.batchSize) break;
      await pause(this.opts.pauseMs);
    }
    if (epoch !== this.epoch) return;
    await this.db.put(COMPACT_DONE_KEY, encodeNumber(revision));
  }
}

export async function readCompactDone(db: ClassicLevel<Buffer, Buffer>): Promise<number> {
  const value = await db.get(COMPACT_DONE_KEY);
  return value ? decodeNumber(value) : 0;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}
