// What keel-store puts in a Raft log entry. Most entries carry an MVCC operation; two more
// kinds exist because they must reach every member in log order too: a lease keep-alive
// sent to a follower (so that it renews the lease on the leader, which alone decides
// expiry) and a member's attributes (name and client URLs, which etcd also publishes
// through the log). Every entry names the member that proposed it and a sequence number,
// so the proposer can pick up the result of applying its own entry.
import { decodeOperation, encodeOperation, type Operation } from '@keel/mvcc';

export interface MemberAttributes {
  id: number;
  name: string;
  clientUrls: string[];
  clusterId: number;
}

export type EntryBody =
  | { kind: 'op'; op: Operation }
  | { kind: 'keepAlive'; lease: bigint }
  | { kind: 'attributes'; attributes: MemberAttributes };

export interface StoreEntry {
  origin: number;
  seq: number;
  body: EntryBody;
}

const KIND = { op: 1, keepAlive: 2, attributes: 3 } as const;
const HEADER = 17;

export function encodeEntry(entry: StoreEntry): Buffer {
  const { body } = entry;
  const payload =
    body.kind === 'op'
      ? encodeOperation(body.op)
      : body.kind === 'keepAlive'
        ? Buffer.from(body.lease.toString(), 'ascii')
        : Buffer.from(JSON.stringify(body.attributes), 'utf8');
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt8(KIND[body.kind], 0);
  out.writeDoubleBE(entry.origin, 1);
  out.writeDoubleBE(entry.seq, 9);
  payload.copy(out, HEADER);
  return out;
}

export function decodeEntry(data: Uint8Array): StoreEntry {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER) throw new Error(`keel-store: log entry of ${buf.length} bytes is too short`);
  const origin = buf.readDoubleBE(1);
  const seq = buf.readDoubleBE(9);
  const payload = buf.subarray(HEADER);
  switch (buf.readUInt8(0)) {
    case KIND.op:
      return { origin, seq, body: { kind: 'op', op: decodeOperation(payload) } };
    case KIND.keepAlive:
      return { origin, seq, body: { kind: 'keepAlive', lease: BigInt(payload.toString('ascii')) } };
    case KIND.attributes:
      return { origin, seq, body: { kind: 'attributes', attributes: JSON.parse(payload.toString('utf8')) as MemberAttributes } };
    default:
      throw new Error(`keel-store: unknown log entry kind ${buf.readUInt8(0)}`);
  }
}
