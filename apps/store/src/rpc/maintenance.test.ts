import { describe, expect, it } from 'vitest';
import { readSnapshotFile, snapshotFile } from './maintenance';

describe('snapshot files', () => {
  it('are 512-byte pages plus a SHA-256, as etcdctl checks, and give back the MVCC snapshot', () => {
    for (const size of [0, 1, 503, 504, 505, 5000]) {
      const inner = Buffer.alloc(size, 7);
      const file = snapshotFile(inner);
      expect((file.length - 32) % 512).toBe(0);
      expect(readSnapshotFile(file).equals(inner)).toBe(true);
    }
  });

  it('refuse a damaged file', () => {
    const file = snapshotFile(Buffer.from('state'));
    file[10] ^= 1;
    expect(() => readSnapshotFile(file)).toThrow(/SHA-256/);
  });
});
