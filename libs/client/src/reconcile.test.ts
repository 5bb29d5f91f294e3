import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from './clock';
import { ExponentialFailureRateLimiter } from './rate-limiter';
import { ReconcileRunner } from './reconcile';
import { WorkQueue } from './workqueue';

function setup() {
  const clock = new FakeClock();
  const queue = new WorkQueue<string>({ clock, rateLimiter: new ExponentialFailureRateLimiter(100, 10_000) });
  return { clock, queue };
}

describe('ReconcileRunner', () => {
  it('reconciles each key, with workers in parallel but never one key twice at once', async () => {
    const { queue } = setup();
    const active = new Set<string>();
    let maxParallel = 0;
    const seen: string[] = [];
    const gates = new Map<string, () => void>();
    const runner = new ReconcileRunner({
      queue,
      workers: 3,
      reconcile: async (key) => {
        expect(active.has(key)).toBe(false);
        active.add(key);
        maxParallel = Math.max(maxParallel, active.size);
        seen.push(key);
        await new Promise<void>((resolve) => gates.set(key, resolve));
        active.delete(key);
      },
    });
    const done = runner.run();
    for (const k of ['a', 'b', 'c', 'a']) queue.add(k);
    await flushPromises();
    expect(maxParallel).toBe(3);
    // 'a' again while it is being reconciled: it runs once more afterwards.
    queue.add('a');
    gates.get('a')!();
    await flushPromises();
    expect(seen).toEqual(['a', 'b', 'c', 'a']);
    for (const k of ['a', 'b', 'c']) gates.get(k)!();
    await runner.stop();
    await done;
  });

  it('requeues a failure with back-off and forgets it on success', async () => {
    const { queue, clock } = setup();
    let calls = 0;
    const errors: boolean[] = [];
    const runner = new ReconcileRunner({
      queue,
      reconcile: async () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
      },
      onError: (_k, _e, retrying) => errors.push(retrying),
    });
    void runner.run();
    queue.add('k');
    await flushPromises();
    expect(calls).toBe(1);
    expect(queue.numRequeues('k')).toBe(1);
    await clock.advance(99);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    await clock.advance(199);
    expect(calls).toBe(2);
    await clock.advance(1);
    expect(calls).toBe(3);
    expect(queue.numRequeues('k')).toBe(0);
    expect(errors).toEqual([true, true]);
    await runner.stop();
  });

  it('drops a key after maxRetries, and honours requeueAfterMs', async () => {
    const { queue, clock } = setup();
    const calls: string[] = [];
    const dropped: string[] = [];
    const runner = new ReconcileRunner({
      queue,
      maxRetries: 1,
      reconcile: async (key) => {
        calls.push(key);
        if (key === 'bad') throw new Error('always');
        return key === 'poll' && calls.filter((c) => c === 'poll').length < 2 ? { requeueAfterMs: 5000 } : undefined;
      },
      onError: (key, _e, retrying) => !retrying && dropped.push(key),
    });
    void runner.run();
    queue.add('bad');
    queue.add('poll');
    await clock.advance(10_000);
    expect(calls.filter((c) => c === 'bad')).toHaveLength(2);
    expect(dropped).toEqual(['bad']);
    expect(calls.filter((c) => c === 'poll')).toHaveLength(2);
    await runner.stop();
  });
});
