import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from './clock';
import { ExponentialFailureRateLimiter } from './rate-limiter';
import { WorkQueue } from './workqueue';

function queue(clock = new FakeClock()) {
  return { clock, q: new WorkQueue<string>({ clock, rateLimiter: new ExponentialFailureRateLimiter(10, 1000) }) };
}

describe('WorkQueue', () => {
  it('hands keys out in order and processes a key queued twice once', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never gives one key to two workers: a key added while held waits for done()', async () => {
    const { q } = queue();
    q.add('a');
    const held = await q.get();
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flushPromises();
    expect(second).toBeUndefined();
    q.done(held!);
    await flushPromises();
    expect(second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const { q } = queue();
    const next = q.get();
    q.add('x');
    expect(await next).toBe('x');
  });

  it('delays addAfter, keeping the earliest time for a key', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 500);
    await clock.advance(49);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await clock.advance(1000);
    expect(q.len()).toBe(1);
  });

  it('backs off a failing key exponentially, and forget() starts over', async () => {
    const { q, clock } = queue();
    q.addRateLimited('a');
    await clock.advance(10);
    expect(await q.get()).toBe('a');
    q.done('a');
    // Its second failure waits twice as long; another key starts at the base delay.
    q.addRateLimited('a');
    q.addRateLimited('b');
    await clock.advance(10);
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
    await clock.advance(10);
    expect(await q.get()).toBe('a');
    q.addRateLimited('b');
    q.addRateLimited('b');
    expect(q.numRequeues('b')).toBe(3);
    q.forget('b');
    expect(q.numRequeues('b')).toBe(0);
  });

  it('shuts down: waiting workers get undefined, adds and delayed keys are dropped', async () => {
    const { q, clock } = queue();
    const waiting = q.get();
    q.addAfter('later', 10);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('a');
    await clock.advance(100);
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(q.shuttingDown).toBe(true);
  });

  it('drains: shutDownWithDrain waits for keys in flight', async () => {
    const { q } = queue();
    q.add('a');
    const key = await q.get();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    await flushPromises();
    expect(drained).toBe(false);
    q.done(key!);
    await drain;
    expect(drained).toBe(true);
  });
});
