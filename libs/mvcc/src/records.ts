// The records on disk, plus the ones staged in the batch being built. Everything that
// reads records goes through here: fetching by revision (staged first, then LevelDB),
// reading history for watchers, hashing, and scanning all on open. "Dropped" records are
// ones a compaction removed from the index but the physical compactor has not deleted
// yet; readers skip them so what they see never depends on how far deletion got.
import type { ClassicLevel } from 'classic-level';
import { crc32 } from 'node:zlib';
import {
  decodeRecord,
  encodeRecord,
  parseRevKey,
  recordKeyLatin1,
  REV_PREFIX,
  revKey,
  revKeyAtMain,
  revString,
  type StoredRecord,
} from './codec';
import { MvccError } from './errors';
import type { Revision } from './types';

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** Whether a record at or below the compact revision is still in the index. */
export type IsLive = (key: string, rev: Revision) => boolean;

export class Records {
  private readonly staged = new Map<string, StoredRecord>();

  constructor(private readonly db: ClassicLevel<Buffer, Buffer>) {}

  /** Stages a new record: readable at once, written with the returned batch op. */
  stage(record: StoredRecord): BatchOp {
    this.staged.set(revString(record.rev), record);
    return { type: 'put', key: revKey(record.rev), value: encodeRecord(record) };
  }

  /** The batch is on disk: staged records are now read from LevelDB. */
  committed(): void {
    this.staged.clear();
  }

  /** Records by revision; with `strict`, a missing one means compaction took it mid-read. */
  async fetch(revs: Revision[], strict: true): Promise<StoredRecord[]>;
  async fetch(revs: Revision[], strict: false): Promise<(StoredRecord | undefined)[]>;
  async fetch(revs: Revision[], strict: boolean): Promise<(StoredRecord | undefined)[]> {
    const out: (StoredRecord | undefined)[] = new Array(revs.length);
    const missing: number[] = [];
    revs.forEach((rev, i) => {
      const staged = this.staged.get(revString(rev));
      if (staged) out[i] = staged;
      else missing.push(i);
    });
    if (missing.length > 0) {
      const values = await this.db.getMany(missing.map((i) => revKey(revs[i]!)));
      values.forEach((value, j) => {
        const i = missing[j]!;
        if (value) out[i] = decodeRecord(revs[i]!, value);
        else if (strict) throw new MvccError('Compacted');
      });
    }
    return out;
  }

  /** Records of whole revisions in [from, to], stopping after about `max`; `through` is the last revision covered. */
  async history(
    from: number,
    to: number,
    max: number,
    compactRev: number,
    isLive: IsLive,
  ): Promise<{ records: StoredRecord[]; through: number }> {
    const records: StoredRecord[] = [];
    let lastMain = from;
    for await (const [key, value] of this.db.iterator({ gte: revKeyAtMain(from), lt: revKeyAtMain(to + 1) })) {
      const rev = parseRevKey(key);
      if (records.length >= max && rev.main !== lastMain) return { records, through: lastMain };
      lastMain = rev.main;
      if (rev.main <= compactRev && !isLive(recordKeyLatin1(value), rev)) continue;
      records.push(decodeRecord(rev, value));
    }
    return { records, through: to };
  }

  /** CRC-32 over the raw bytes of every live record up to `atRev`, in revision order. */
  async hash(atRev: number, compactRev: number, isLive: IsLive): Promise<number> {
    let hash = 0;
    for await (const [key, value] of this.db.iterator({ gte: revKeyAtMain(0), lt: revKeyAtMain(atRev + 1) })) {
      const rev = parseRevKey(key);
      if (rev.main <= compactRev && !isLive(recordKeyLatin1(value), rev)) continue;
      hash = crc32(value, crc32(key, hash));
    }
    return hash >>> 0;
  }

  /** Every record on disk, in revision order (to rebuild the index on open). */
  async *scan(): AsyncGenerator<StoredRecord> {
    for await (const [key, value] of this.db.iterator({ gte: revKeyAtMain(0), lt: Buffer.of(REV_PREFIX + 1) })) {
      yield decodeRecord(parseRevKey(key), value);
    }
  }
}
