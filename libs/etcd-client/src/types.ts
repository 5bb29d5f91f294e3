// The client's own shapes for etcd data: keys and values as Buffers, revisions and
// versions as numbers (they stay far below 2^53), lease IDs as decimal strings (they are
// random 64-bit values and would lose bits as numbers).
import type { KeyValue__Output } from '@keel/protos/mvccpb/KeyValue';

export type Bytes = Buffer | string;

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  /** Lease ID, "0" when none. */
  lease: string;
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: KeyValue;
  prevKv?: KeyValue;
}

export function toBuffer(b: Bytes): Buffer {
  return typeof b === 'string' ? Buffer.from(b) : b;
}

export function fromKv(kv: KeyValue__Output): KeyValue {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease,
  };
}

/** The range_end that selects every key starting with `prefix` (etcd's prefix rule). */
export function prefixEnd(prefix: Bytes): Buffer {
  const end = Buffer.from(toBuffer(prefix));
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): every key from prefix on.
  return Buffer.from([0]);
}
