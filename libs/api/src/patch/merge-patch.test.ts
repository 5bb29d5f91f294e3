// RFC 7386 (JSON Merge Patch) rules with our own cases, and the createMergePatch round trip as a property.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from './json';
import { applyMergePatch, createMergePatch } from './merge-patch';

describe('JSON Merge Patch (RFC 7386)', () => {
  it('merges objects member by member and keeps members the patch does not name', () => {
    expect(applyMergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 4 } })).toEqual({ a: 1, b: { c: 4, d: 3 } });
  });

  it('deletes a member set to null, and ignores null for a missing member', () => {
    expect(applyMergePatch({ a: 1, b: 2 }, { a: null })).toEqual({ b: 2 });
    expect(applyMergePatch({ a: 1 }, { z: null })).toEqual({ a: 1 });
  });

  it('replaces arrays whole, never merging them', () => {
    expect(applyMergePatch({ l: [1, 2, 3] }, { l: [4] })).toEqual({ l: [4] });
    expect(applyMergePatch({ l: [{ a: 1 }] }, { l: [{ b: 2 }] })).toEqual({ l: [{ b: 2 }] });
  });

  it('a non-object patch replaces the target, and an object patch turns a non-object into one', () => {
    expect(applyMergePatch({ a: 1 }, 'text')).toBe('text');
    expect(applyMergePatch({ a: 1 }, [1])).toEqual([1]);
    expect(applyMergePatch('text', { a: 1 })).toEqual({ a: 1 });
    expect(applyMergePatch({ a: 'x' }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });

  it('drops nulls inside an object added where nothing was', () => {
    expect(applyMergePatch({}, { a: { b: null, c: 1 } })).toEqual({ a: { c: 1 } });
  });

  it('keeps null inside arrays (they are values, not deletions)', () => {
    expect(applyMergePatch({}, { l: [null, 1] })).toEqual({ l: [null, 1] });
  });

  it('does not modify its arguments', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    applyMergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });

  it('an empty patch changes nothing', () => {
    expect(applyMergePatch({ a: [1] }, {})).toEqual({ a: [1] });
  });

  it('is what kubectl scale and label send', () => {
    const deploy = { metadata: { labels: { app: 'web' } }, spec: { replicas: 1, template: {} } };
    expect(applyMergePatch(deploy, { spec: { replicas: 3 } })).toEqual({ metadata: { labels: { app: 'web' } }, spec: { replicas: 3, template: {} } });
    expect(applyMergePatch(deploy, { metadata: { labels: { app: null, env: 'prod' } } })).toEqual({
      metadata: { labels: { env: 'prod' } },
      spec: { replicas: 1, template: {} },
    });
  });
});

describe('createMergePatch', () => {
  it('emits null for removed members, values for changed ones, nothing for equal ones', () => {
    expect(createMergePatch({ a: 1, b: { c: 1, d: 2 }, e: [1] }, { b: { c: 1, d: 3 }, e: [1], f: 'new' })).toEqual({
      a: null,
      b: { d: 3 },
      f: 'new',
    });
  });

  it('is {} for equal documents and the whole document when a side is not an object', () => {
    expect(createMergePatch({ a: { b: [1] } }, { a: { b: [1] } })).toEqual({});
    expect(createMergePatch([1], { a: 1 })).toEqual({ a: 1 });
    expect(createMergePatch({ a: 1 }, 'x')).toBe('x');
  });

  // Documents a merge patch can express: objects never hold null (null means delete), arrays may.
  const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean());
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', '__proto__');
  const doc: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4 },
      leaf,
      fc.array(fc.oneof(tie('value'), fc.constant(null)), { maxLength: 3 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const object = fc.dictionary(key, doc, { maxKeys: 5 });

  it('property: applying createMergePatch(a, b) to a gives b', () => {
    fc.assert(
      fc.property(fc.oneof(object, doc), fc.oneof(object, doc), (a, b) => {
        expect(applyMergePatch(a, createMergePatch(a, b))).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });
});
