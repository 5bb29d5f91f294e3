// The demo's load: one client writing new objects, one after another, for as long as it
// runs, and recording what happened to each write. A write is *acknowledged* only when the
// server answered success; one that failed or timed out has an unknown outcome (it may have
// been committed before the answer was lost) and is never counted as lost. Each write gets
// a fresh name, so an acknowledged write is a name that must exist at the end, with the
// value it was written with. The write itself is injected, so the bookkeeping is unit-tested
// without a cluster.

export interface WriteRecord {
  seq: number;
  name: string;
  /** When the call was made and when it ended, in ms on the writer's clock (opts.now). */
  startedAt: number;
  endedAt: number;
  outcome: 'acked' | 'failed';
  /** The store revision the server answered with (acked writes). */
  revision?: string;
  error?: string;
}

export interface WriterOptions {
  /** Makes one write of `name`; resolves with its resource version once acknowledged. */
  write: (name: string, seq: number) => Promise<string>;
  /** Name of write number seq. */
  nameOf?: (seq: number) => string;
  /** Pause after a failed write, so a cluster without a leader is not hammered (default 50 ms). */
  backoffMs?: number;
  /** Pause between writes (default 0: as fast as one client goes). */
  pauseMs?: number;
  /** The clock records are stamped with (ms); default performance.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface WriterSummary {
  attempted: number;
  acked: number;
  failed: number;
  /** Longest time between two consecutive acknowledgements, and when it began. */
  longestAckGap: { ms: number; from: number; to: number };
}

export class ContinuousWriter {
  readonly records: WriteRecord[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: WriterOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** ms on the caller's clock (opts.now), which the demo's timeline shares. */
  private elapsed(): number {
    return this.now();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the write in flight and resolves when it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    const nameOf = this.opts.nameOf ?? ((seq: number) => `write-${String(seq).padStart(6, '0')}`);
    for (let seq = 1; !this.stopped; seq++) {
      const name = nameOf(seq);
      const startedAt = this.elapsed();
      try {
        const revision = await this.opts.write(name, seq);
        this.records.push({ seq, name, startedAt, endedAt: this.elapsed(), outcome: 'acked', revision });
        if (this.opts.pauseMs) await this.sleep(this.opts.pauseMs);
      } catch (err) {
        this.records.push({ seq, name, startedAt, endedAt: this.elapsed(), outcome: 'failed', error: firstLine(err) });
        await this.sleep(this.opts.backoffMs ?? 50);
      }
    }
  }

  acked(): WriteRecord[] {
    return this.records.filter((r) => r.outcome === 'acked');
  }

  /** The first write that started at or after `t` and was acknowledged. */
  firstAckStartedAfter(t: number): WriteRecord | undefined {
    return this.records.find((r) => r.outcome === 'acked' && r.startedAt >= t);
  }

  summary(): WriterSummary {
    const acked = this.acked();
    let gap = { ms: 0, from: 0, to: 0 };
    for (let i = 1; i < acked.length; i++) {
      const ms = acked[i]!.endedAt - acked[i - 1]!.endedAt;
      if (ms > gap.ms) gap = { ms, from: acked[i - 1]!.endedAt, to: acked[i]!.endedAt };
    }
    return { attempted: this.records.length, acked: acked.length, failed: this.records.length - acked.length, longestAckGap: gap };
  }
}

/**
 * Checks the acknowledged writes against what exists at the end: `present` maps each name
 * found to its stored value (the seq it was written with). Lost: acknowledged but absent or
 * with another value. Failed writes that exist anyway are counted apart: committed, answer lost.
 */
export function checkWrites(records: WriteRecord[], present: Map<string, number>): { lost: WriteRecord[]; failedButPresent: number; acked: number } {
  const lost: WriteRecord[] = [];
  let failedButPresent = 0;
  let acked = 0;
  for (const r of records) {
    if (r.outcome === 'acked') {
      acked++;
      if (present.get(r.name) !== r.seq) lost.push(r);
    } else if (present.has(r.name)) {
      failedButPresent++;
    }
  }
  return { lost, failedButPresent, acked };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
