// applyAnswering: an operation answered once it has run in memory, before its batch is on
// disk; whoever got the answer still reads its own write here.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MvccError } from './errors';
import { b, TestStore, text } from './test-helpers';

describe('applyAnswering', () => {
  let t: TestStore;
  beforeEach(async () => (t = await TestStore.create()));
  afterEach(() => t.cleanup());

  it('answers before the batch is written, and reads made after the answer see the write', async () => {
    const { result, written } = t.store.applyAnswering({ type: 'put', request: { key: b('k'), value: b('v') } }, 1);
    let isWritten = false;
    void written.then(() => (isWritten = true));
    expect((await result).revision).toBe(2);
    expect(isWritten).toBe(false);
    // Read at once, while the batch may still be in flight: the read waits for it.
    const read = await t.store.range({ key: b('k') });
    expect(text(read.kvs[0]?.value)).toBe('v');
    expect(read.revision).toBe(2);
    await written;
    expect(t.store.revision).toBe(2);
    expect(t.store.appliedIndex).toBe(1);
  });

  it('answers a refusal the same way, and records the index all the same', async () => {
    const { result, written } = t.store.applyAnswering({ type: 'put', request: { key: b('k'), ignoreValue: true } }, 1);
    await expect(result).rejects.toSatisfy((e) => MvccError.is(e, 'KeyNotFound'));
    await written;
    expect(t.store.appliedIndex).toBe(1);
  });

  it('starts a watch "from now" after what was answered', async () => {
    const { result, written } = t.store.applyAnswering({ type: 'put', request: { key: b('k'), value: b('1') } }, 1);
    await result;
    const w = t.store.watch({ key: b('k') });
    await written;
    await t.store.apply({ type: 'put', request: { key: b('k'), value: b('2') } }, 2);
    let msg = await w.next();
    while (msg?.type === 'progress') msg = await w.next();
    expect(msg).toMatchObject({ type: 'events', revision: 3 });
    w.cancel();
  });
});
