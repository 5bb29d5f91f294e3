import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, type StoreEntry } from './entry';

describe('log entries', () => {
  it('round-trip every kind with its origin and sequence number', () => {
    const entries: StoreEntry[] = [
      { origin: 0xe5610941c1df, seq: 1, body: { kind: 'op', op: { type: 'put', request: { key: Buffer.from('k'), value: Buffer.from([0, 255]), lease: 7n } } } },
      { origin: 1, seq: 2 ** 40, body: { kind: 'keepAlive', lease: 2n ** 62n + 5n } },
      { origin: 2, seq: 3, body: { kind: 'attributes', attributes: { id: 2, name: 'm2', clientUrls: ['http://127.0.0.1:1'], clusterId: 9 } } },
    ];
    for (const entry of entries) expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
  });

  it('refuse bytes that are not a keel-store entry', () => {
    expect(() => decodeEntry(Buffer.from('short'))).toThrow(/too short/);
    const bad = encodeEntry({ origin: 1, seq: 1, body: { kind: 'keepAlive', lease: 1n } });
    bad[0] = 99;
    expect(() => decodeEntry(bad)).toThrow(/unknown log entry kind/);
  });
});
