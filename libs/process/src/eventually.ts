// Waiting for a condition in cross-process tests and tools: poll a check until it yields a
// value, keeping the last error it threw so a timeout says why, not only that it ran out.
export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** More to say on a timeout (say, the last lines of a daemon's log). */
  details?: () => string;
}

/** Resolves with the first value `check` returns that is not undefined; throws after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, opts: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const details = opts.details?.();
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}${details ? `\n${details}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
