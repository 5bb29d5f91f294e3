import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { base64Decode, base64Encode, utf8Encode } from './base64';
import { mergeStringData } from './secrets';

describe('base64 and UTF-8', () => {
  it('matches Node for any bytes and any string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = base64Encode(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(base64Decode(text)).toEqual(bytes);
      }),
    );
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      expect(Buffer.from(utf8Encode(s)).toString('utf8')).toBe(s);
    }));
  });

  it('refuses text that is not base64', () => {
    expect(base64Decode('abc')).toBeUndefined();
    expect(base64Decode('ab!=')).toBeUndefined();
    expect(base64Decode('a=bc')).toBeUndefined();
    expect(base64Decode('')).toEqual(new Uint8Array());
  });
});

describe('Secret stringData', () => {
  it('is encoded into data, overriding, and dropped', () => {
    const merged = mergeStringData({ metadata: { name: 's' }, data: { a: 'eA==', b: 'eQ==' }, stringData: { b: 'héllo', c: 'z' } });
    expect(merged).toEqual({ metadata: { name: 's' }, data: { a: 'eA==', b: 'aMOpbGxv', c: 'eg==' } });
  });
});
