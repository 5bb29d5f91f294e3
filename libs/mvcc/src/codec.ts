// The on-disk layout: how revisions, key-value records, leases and metadata become
// LevelDB keys and values. One byte prefix per keyspace keeps them apart and ordered:
//   'r' main(8) sub(8)  -> a record: one change to one key at that revision
//   'l' id(8)           -> a lease (its granted TTL)
//   'm' name            -> metadata (applied index, current and compacted revisions)
// Numbers are big-endian so LevelDB's byte order is numeric order. A record is
// self-contained (key, create revision, version, lease, value) so a read at a past
// revision needs one get, and it names the revision of the key's previous live version
// so a watcher can find prev_kv without scanning.
import type { KeyValue, Revision } from './types';

export const REV_PREFIX = 0x72; // 'r'
export const LEASE_PREFIX = 0x6c; // 'l'
export const META_PREFIX = 0x6d; // 'm'

const TWO_32 = 2 ** 32;

function writeU64(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_32), offset);
  buf.writeUInt32BE(n % TWO_32, offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

export function revKey(rev: Revision): Buffer {
  const buf = Buffer.allocUnsafe(17);
  buf[0] = REV_PREFIX;
  writeU64(buf, 1, rev.main);
  writeU64(buf, 9, rev.sub);
  return buf;
}

export function parseRevKey(buf: Buffer): Revision {
  return { main: readU64(buf, 1), sub: readU64(buf, 9) };
}

/** The first record key at or after main revision `main` (sub 0). */
export function revKeyAtMain(main: number): Buffer {
  return revKey({ main, sub: 0 });
}

export function revString(rev: Revision): string {
  return `${rev.main}.${rev.sub}`;
}

export function compareRev(a: Revision, b: Revision): number {
  return a.main - b.main || a.sub - b.sub;
}

export function leaseKey(id: bigint): Buffer {
  const buf = Buffer.allocUnsafe(9);
  buf[0] = LEASE_PREFIX;
  buf.writeBigInt64BE(id, 1);
  return buf;
}

export function parseLeaseKey(buf: Buffer): bigint {
  return buf.readBigInt64BE(1);
}

export function encodeLease(ttl: number): Buffer {
  const buf = Buffer.allocUnsafe(8);
  writeU64(buf, 0, ttl);
  return buf;
}

export function decodeLease(buf: Buffer): number {
  return readU64(buf, 0);
}

export function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.of(META_PREFIX), Buffer.from(name, 'latin1')]);
}

export function encodeNumber(n: number): Buffer {
  const buf = Buffer.allocUnsafe(8);
  writeU64(buf, 0, n);
  return buf;
}

export function decodeNumber(buf: Buffer): number {
  return readU64(buf, 0);
}

/** One change to one key, as stored under its revision. */
export interface StoredRecord {
  key: Buffer;
  rev: Revision;
  tombstone: boolean;
  createRevision: number;
  version: number;
  lease: bigint;
  value: Buffer;
  /** The key's previous live revision in the same life (none for a creating put). */
  prev?: Revision;
}

const HEADER = 1 + 4 + 8 + 8 + 8 + 8 + 8; // flags, keyLen, create, version, lease, prev main, prev sub

export function encodeRecord(rec: StoredRecord): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + rec.key.length + rec.value.length);
  buf[0] = (rec.tombstone ? 1 : 0) | (rec.prev ? 2 : 0);
  buf.writeUInt32BE(rec.key.length, 1);
  writeU64(buf, 5, rec.createRevision);
  writeU64(buf, 13, rec.version);
  buf.writeBigInt64BE(rec.lease, 21);
  writeU64(buf, 29, rec.prev?.main ?? 0);
  writeU64(buf, 37, rec.prev?.sub ?? 0);
  rec.key.copy(buf, HEADER);
  rec.value.copy(buf, HEADER + rec.key.length);
  return buf;
}

export function decodeRecord(rev: Revision, buf: Buffer): StoredRecord {
  const flags = buf[0]!;
  const keyLen = buf.readUInt32BE(1);
  // Views into `buf`, not copies: LevelDB hands each read a fresh buffer.
  const rec: StoredRecord = {
    key: buf.subarray(HEADER, HEADER + keyLen),
    rev,
    tombstone: (flags & 1) !== 0,
    createRevision: readU64(buf, 5),
    version: readU64(buf, 13),
    lease: buf.readBigInt64BE(21),
    value: buf.subarray(HEADER + keyLen),
  };
  if (flags & 2) rec.prev = { main: readU64(buf, 29), sub: readU64(buf, 37) };
  return rec;
}

/** The key a record is about, without copying its value. */
export function recordKeyLatin1(buf: Buffer): string {
  const keyLen = buf.readUInt32BE(1);
  return buf.toString('latin1', HEADER, HEADER + keyLen);
}

export function recordToKeyValue(rec: StoredRecord): KeyValue {
  if (rec.tombstone) {
    return { key: rec.key, createRevision: 0, modRevision: rec.rev.main, version: 0, value: Buffer.alloc(0), lease: 0n };
  }
  return {
    key: rec.key,
    createRevision: rec.createRevision,
    modRevision: rec.rev.main,
    version: rec.version,
    value: rec.value,
    lease: rec.lease,
  };
}
