// The snapshot format: every LevelDB entry of the store (records, leases, metadata with
// the applied index), framed, with a SHA-256 of the whole stream at the end so a torn or
// corrupted transfer is caught before the store trusts it. This is what a Raft snapshot
// carries to a new or lagging member.
//   "KEELMVCC" u32(version=1)
//   { u32 keyLen, key, u32 valueLen, value }*
//   u32 0xffffffff, sha256(everything before the marker)
import { createHash } from 'node:crypto';
import { MvccError } from './errors';

const MAGIC = Buffer.from('KEELMVCC', 'latin1');
const VERSION = 1;
const END = 0xffffffff;
const CHUNK = 256 * 1024;

/** Frames entries into chunks of about 256 KiB. */
export async function* encodeSnapshot(entries: AsyncIterable<[Buffer, Buffer]>): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let parts: Buffer[] = [];
  let size = 0;
  const add = (buf: Buffer) => {
    hash.update(buf);
    parts.push(buf);
    size += buf.length;
  };
  const header = Buffer.alloc(12);
  MAGIC.copy(header);
  header.writeUInt32BE(VERSION, 8);
  add(header);
  for await (const [key, value] of entries) {
    const lengths = Buffer.allocUnsafe(4);
    lengths.writeUInt32BE(key.length);
    add(lengths);
    add(key);
    const valueLength = Buffer.allocUnsafe(4);
    valueLength.writeUInt32BE(value.length);
    add(valueLength);
    add(value);
    if (size >= CHUNK) {
      yield Buffer.concat(parts);
      parts = [];
      size = 0;
    }
  }
  const end = Buffer.allocUnsafe(4);
  end.writeUInt32BE(END);
  parts.push(end, hash.digest());
  yield Buffer.concat(parts);
}

/** Parses a snapshot stream, yielding entries; throws Corrupt on a bad frame or checksum (after the last entry). */
export async function* decodeSnapshot(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<[Buffer, Buffer]> {
  const hash = createHash('sha256');
  let buf: Buffer = Buffer.alloc(0);
  let pos = 0;
  const iterator = chunks[Symbol.asyncIterator]();
  const need = async (n: number): Promise<void> => {
    while (buf.length - pos < n) {
      const next = await iterator.next();
      if (next.done) throw new MvccError('Corrupt', 'mvcc: snapshot ends early');
      buf = Buffer.concat([buf.subarray(pos), Buffer.from(next.value)]);
      pos = 0;
    }
  };
  const read = async (n: number, hashed = true): Promise<Buffer> => {
    await need(n);
    const out = buf.subarray(pos, pos + n);
    pos += n;
    if (hashed) hash.update(out);
    return out;
  };

  const header = await read(12);
  if (!header.subarray(0, 8).equals(MAGIC) || header.readUInt32BE(8) !== VERSION) {
    throw new MvccError('Corrupt', 'mvcc: not a keel mvcc snapshot (bad header)');
  }
  for (;;) {
    const lengthBuf = await read(4, false);
    const keyLength = lengthBuf.readUInt32BE(0);
    if (keyLength === END) break;
    hash.update(lengthBuf);
    const key = Buffer.from(await read(keyLength));
    const valueLength = (await read(4)).readUInt32BE(0);
    const value = Buffer.from(await read(valueLength));
    yield [key, value];
  }
  const digest = await read(32, false);
  if (!digest.equals(hash.digest())) throw new MvccError('Corrupt', 'mvcc: snapshot checksum mismatch');
  if (buf.length - pos > 0 || !(await iterator.next()).done) {
    throw new MvccError('Corrupt', 'mvcc: trailing bytes after snapshot');
  }
}
