// RFC 6902 (JSON Patch) and RFC 6901 (JSON Pointer) rules, one test per rule, with our own cases.
import { describe, expect, it } from 'vitest';
import { PatchError } from './errors';
import type { JsonValue } from './json';
import { applyJsonPatch, formatJsonPointer, getByPointer, parseJsonPointer } from './json-patch';

function expectPatchError(fn: () => unknown, code: string, path?: string, index?: number): PatchError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PatchError);
    const e = err as PatchError;
    expect(e.code).toBe(code);
    if (path !== undefined) expect(e.path).toBe(path);
    if (index !== undefined) expect(e.operationIndex).toBe(index);
    return e;
  }
  throw new Error('expected a PatchError');
}

describe('JSON Pointer (RFC 6901)', () => {
  const doc: JsonValue = { shelf: ['a', 'b'], 'x/y': 1, 'm~n': 2, '': 3, ' ': 4, deep: { list: [{ k: 'v' }] } };

  it('the empty pointer is the whole document', () => {
    expect(parseJsonPointer('')).toEqual([]);
    expect(getByPointer(doc, '')).toBe(doc);
  });

  it('decodes ~1 to / and ~0 to ~, in that order', () => {
    expect(parseJsonPointer('/x~1y')).toEqual(['x/y']);
    expect(parseJsonPointer('/m~0n')).toEqual(['m~n']);
    expect(parseJsonPointer('/~01')).toEqual(['~1']);
    expect(getByPointer(doc, '/x~1y')).toBe(1);
    expect(getByPointer(doc, '/m~0n')).toBe(2);
  });

  it('treats "/" as the empty key and keeps spaces', () => {
    expect(getByPointer(doc, '/')).toBe(3);
    expect(getByPointer(doc, '/ ')).toBe(4);
  });

  it('indexes arrays with decimal indices and walks nested values', () => {
    expect(getByPointer(doc, '/shelf/1')).toBe('b');
    expect(getByPointer(doc, '/deep/list/0/k')).toBe('v');
    expect(getByPointer(doc, '/shelf/01')).toBeUndefined();
    expect(getByPointer(doc, '/shelf/2')).toBeUndefined();
  });

  it('rejects pointers without a leading slash and bad escapes', () => {
    expectPatchError(() => parseJsonPointer('shelf'), 'InvalidPointer');
    expectPatchError(() => parseJsonPointer('/a~2b'), 'InvalidPointer');
    expectPatchError(() => parseJsonPointer('/a~'), 'InvalidPointer');
  });

  it('formats tokens back with escapes', () => {
    expect(formatJsonPointer(['x/y', 'm~n', '0'])).toBe('/x~1y/m~0n/0');
    expect(parseJsonPointer(formatJsonPointer(['~1/', 'a']))).toEqual(['~1/', 'a']);
  });
});

describe('JSON Patch (RFC 6902)', () => {
  it('add creates a member, or replaces an existing one', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/b', value: { c: [1] } }])).toEqual({ a: 1, b: { c: [1] } });
    expect(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/a', value: 2 }])).toEqual({ a: 2 });
  });

  it('add inserts into arrays at an index, at length, and with "-"', () => {
    const doc = { list: ['x', 'z'] };
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/list/1', value: 'y' }])).toEqual({ list: ['x', 'y', 'z'] });
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/list/2', value: 'w' }])).toEqual({ list: ['x', 'z', 'w'] });
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/list/-', value: 'w' }])).toEqual({ list: ['x', 'z', 'w'] });
  });

  it('add refuses an index past the end, a leading zero, and a missing parent', () => {
    expectPatchError(() => applyJsonPatch({ list: [1] }, [{ op: 'add', path: '/list/2', value: 0 }]), 'InvalidTarget', '/list/2', 0);
    expectPatchError(() => applyJsonPatch({ list: [1] }, [{ op: 'add', path: '/list/00', value: 0 }]), 'InvalidTarget');
    expectPatchError(() => applyJsonPatch({}, [{ op: 'add', path: '/missing/child', value: 0 }]), 'PathNotFound', '/missing/child');
  });

  it('add at the root replaces the document, and a value may be null', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '', value: [1, 2] }])).toEqual([1, 2]);
    expect(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/b', value: null }])).toEqual({ a: 1, b: null });
  });

  it('remove deletes members and array elements, shifting the rest', () => {
    expect(applyJsonPatch({ a: 1, b: 2 }, [{ op: 'remove', path: '/a' }])).toEqual({ b: 2 });
    expect(applyJsonPatch({ l: [1, 2, 3] }, [{ op: 'remove', path: '/l/0' }])).toEqual({ l: [2, 3] });
  });

  it('remove of a missing location fails, and "-" names no element', () => {
    expectPatchError(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }]), 'PathNotFound', '/b');
    expectPatchError(() => applyJsonPatch({ l: [1] }, [{ op: 'remove', path: '/l/-' }]), 'InvalidTarget');
    expectPatchError(() => applyJsonPatch({ l: [1] }, [{ op: 'remove', path: '/l/1' }]), 'InvalidTarget');
  });

  it('replace needs the target to exist', () => {
    expect(applyJsonPatch({ a: { b: 1 } }, [{ op: 'replace', path: '/a/b', value: 'x' }])).toEqual({ a: { b: 'x' } });
    expect(applyJsonPatch({ l: [1, 2] }, [{ op: 'replace', path: '/l/1', value: 9 }])).toEqual({ l: [1, 9] });
    expect(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: 'whole' }])).toBe('whole');
    expectPatchError(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }]), 'PathNotFound', '/b');
  });

  it('move removes from "from" and adds at "path"', () => {
    expect(applyJsonPatch({ a: { x: 1 }, b: {} }, [{ op: 'move', from: '/a/x', path: '/b/y' }])).toEqual({ a: {}, b: { y: 1 } });
    expect(applyJsonPatch({ l: ['a', 'b', 'c'] }, [{ op: 'move', from: '/l/0', path: '/l/2' }])).toEqual({ l: ['b', 'c', 'a'] });
  });

  it('move cannot move a value into its own child, and needs "from" to exist', () => {
    expectPatchError(() => applyJsonPatch({ a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]), 'InvalidTarget');
    expectPatchError(() => applyJsonPatch({}, [{ op: 'move', from: '/nope', path: '/x' }]), 'PathNotFound', '/nope');
    // Moving a value onto itself is a no-op, but the value must exist.
    expect(applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/a' }])).toEqual({ a: 1 });
  });

  it('copy duplicates a value deeply', () => {
    const out = applyJsonPatch({ a: { n: [1] } }, [
      { op: 'copy', from: '/a', path: '/b' },
      { op: 'add', path: '/b/n/-', value: 2 },
    ]);
    expect(out).toEqual({ a: { n: [1] }, b: { n: [1, 2] } });
  });

  it('test compares by JSON value: key order does not matter, numbers by value', () => {
    const doc = { o: { a: 1, b: [1, { c: null }] }, n: 10 };
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/o', value: { b: [1, { c: null }], a: 1 } }])).toEqual(doc);
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/n', value: 10.0 }])).toEqual(doc);
    expectPatchError(() => applyJsonPatch(doc, [{ op: 'test', path: '/n', value: '10' }]), 'TestFailed', '/n', 0);
    expectPatchError(() => applyJsonPatch(doc, [{ op: 'test', path: '/o/b', value: [{ c: null }, 1] }]), 'TestFailed');
    expectPatchError(() => applyJsonPatch(doc, [{ op: 'test', path: '/missing', value: null }]), 'PathNotFound');
  });

  it('is atomic: a failing operation leaves the input untouched and names the op', () => {
    const doc = { spec: { replicas: 1, list: [1] } };
    const snapshot = JSON.parse(JSON.stringify(doc));
    const err = expectPatchError(
      () =>
        applyJsonPatch(doc, [
          { op: 'replace', path: '/spec/replicas', value: 5 },
          { op: 'add', path: '/spec/list/-', value: 2 },
          { op: 'test', path: '/spec/replicas', value: 1 },
        ]),
      'TestFailed',
      '/spec/replicas',
      2,
    );
    expect(err.message).toContain('operation 2 (test /spec/replicas)');
    expect(doc).toEqual(snapshot);
  });

  it('never aliases the input, even on success', () => {
    const doc = { a: { b: 1 } };
    const out = applyJsonPatch(doc, []) as { a: { b: number } };
    out.a.b = 2;
    expect(doc.a.b).toBe(1);
  });

  it('rejects malformed patches: not a list, unknown op, missing value or from', () => {
    expectPatchError(() => applyJsonPatch({}, { op: 'add' }), 'InvalidPatch');
    expectPatchError(() => applyJsonPatch({}, [{ op: 'frobnicate', path: '/a' }]), 'InvalidPatch', '/a', 0);
    expectPatchError(() => applyJsonPatch({}, [{ op: 'add', path: '/a' }]), 'InvalidPatch');
    expectPatchError(() => applyJsonPatch({}, [{ op: 'copy', path: '/a' }]), 'InvalidPatch');
    expectPatchError(() => applyJsonPatch({}, [{ op: 'remove' }]), 'InvalidPatch');
    expectPatchError(() => applyJsonPatch({}, ['add']), 'InvalidPatch');
  });

  it('refuses more operations than Kubernetes allows', () => {
    const ops = Array.from({ length: 3 }, () => ({ op: 'test', path: '', value: {} }));
    expect(applyJsonPatch({}, ops, { maxOperations: 3 })).toEqual({});
    expectPatchError(() => applyJsonPatch({}, ops, { maxOperations: 2 }), 'InvalidPatch');
  });

  it('cannot reach through a scalar', () => {
    expectPatchError(() => applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }]), 'InvalidTarget');
  });

  it('treats __proto__ as an ordinary key', () => {
    const out = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('runs what client-node sends for a label change', () => {
    const pod = { metadata: { name: 'p', labels: { app: 'web' } } };
    expect(
      applyJsonPatch(pod, [
        { op: 'replace', path: '/metadata/labels/app', value: 'api' },
        { op: 'add', path: '/metadata/labels/tier', value: 'backend' },
      ]),
    ).toEqual({ metadata: { name: 'p', labels: { app: 'api', tier: 'backend' } } });
  });
});
