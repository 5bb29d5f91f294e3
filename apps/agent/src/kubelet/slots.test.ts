import { afterEach, describe, expect, it, vi } from 'vitest';
import { Slots } from './slots';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('Slots', () => {
  afterEach(() => vi.useRealTimers());

  it('runs at most `limit` at once, the rest in order as slots free up', async () => {
    const slots = new Slots(2, 60_000);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) => slots.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }));
    await tick();
    expect(started).toEqual([0, 1]);
    expect(slots.state).toEqual({ busy: 2, waiting: 2 });
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(slots.state).toEqual({ busy: 0, waiting: 0 });
  });

  it('gives the slot back when the work fails', async () => {
    const slots = new Slots(1, 60_000);
    await expect(slots.run(async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await slots.run(async () => 'yes')).toBe('yes');
    expect(slots.state).toEqual({ busy: 0, waiting: 0 });
  });

  it('a caller that waited maxWaitMs runs anyway, uncounted', async () => {
    vi.useFakeTimers();
    const slots = new Slots(1, 1_000);
    const stuck = deferred();
    const first = slots.run(() => stuck.promise);
    let ran = false;
    const second = slots.run(async () => {
      ran = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(ran).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(ran).toBe(true);
    expect(slots.state).toEqual({ busy: 1, waiting: 0 });
    stuck.resolve();
    await first;
    expect(slots.state).toEqual({ busy: 0, waiting: 0 });
  });
});
