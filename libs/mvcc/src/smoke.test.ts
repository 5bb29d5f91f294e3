import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { b, TestStore, text } from './test-helpers';

describe('smoke', () => {
  let t: TestStore;
  beforeEach(async () => (t = await TestStore.create()));
  afterEach(() => t.cleanup());

  it('puts and gets', async () => {
    expect(t.store.revision).toBe(1);
    const r = await t.put('a', '1');
    expect(r.revision).toBe(2);
    const kv = await t.get('a');
    expect(text(kv?.value)).toBe('1');
    expect(kv).toMatchObject({ createRevision: 2, modRevision: 2, version: 1, lease: 0n });
    await t.put('a', '2');
    expect(await t.get('a')).toMatchObject({ createRevision: 2, modRevision: 3, version: 2 });
    expect(text((await t.get('a', 2))?.value)).toBe('1');
    const range = await t.store.range({ key: b('a'), rangeEnd: b('b') });
    expect(range.count).toBe(1);
  });
});
