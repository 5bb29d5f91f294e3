// A bounded number of slots for work that contends for the node's CPUs (RunPodSandbox:
// runc, the CNI plugins, the pause container). Ten sandboxes started together on two
// cores all finish late; two at a time finish in turn, so most pods run sooner (bench-pods,
// waves of 10: p50 lower in every interleaved round). A caller waits for a slot at most
// maxWaitMs and then runs anyway, uncounted, so a sandbox start that hangs (up to its
// 60 s deadline) delays the others by that much at most.
export class Slots {
  private busy = 0;
  private readonly queue: { go: () => void }[] = [];

  constructor(
    readonly limit: number,
    private readonly maxWaitMs: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    let counted = true;
    if (this.busy >= this.limit) {
      counted = await new Promise<boolean>((resolve) => {
        const entry = {
          go: () => {
            clearTimeout(timer);
            resolve(true);
          },
        };
        const timer = setTimeout(() => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          resolve(false);
        }, this.maxWaitMs);
        this.queue.push(entry);
      });
    } else this.busy++;
    try {
      return await fn();
    } finally {
      if (counted) {
        // Hand the slot straight to the next in line, or give it back.
        const next = this.queue.shift();
        if (next) next.go();
        else this.busy--;
      }
    }
  }

  /** Slots taken and callers waiting (for metrics and tests). */
  get state(): { busy: number; waiting: number } {
    return { busy: this.busy, waiting: this.queue.length };
  }
}
