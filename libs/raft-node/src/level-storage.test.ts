// LevelStorage: round trips through close and reopen, snapshots and compaction, a new
// leader's entries replacing a tail, group commit (one batch per save), and a process
// killed with SIGKILL in the middle of a stream of synced writes.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrCompacted, type Entry } from '@keel/raft';
import { LevelStorage, entryKey } from './level-storage';

const enc = new TextEncoder();
function ents(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push({ index: i, term, type: 'normal', data: enc.encode(`e${i}t${term}`) });
  return out;
}
const dec = (e: Entry) => new TextDecoder().decode(e.data);

describe('LevelStorage', () => {
  let dir: string;
  let st: LevelStorage | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-raft-storage-'));
  });
  afterEach(async () => {
    await st?.close().catch(() => undefined);
    st = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function reopen(): Promise<LevelStorage> {
    await st?.close();
    st = await LevelStorage.open(dir);
    return st;
  }

  it('starts empty', async () => {
    const s = await reopen();
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    expect(s.snapshot().metadata.index).toBe(0);
  });

  it('keeps entries and hard state across close and reopen', async () => {
    let s = await reopen();
    await s.save({ entries: ents(1, 10, 1), hardState: { term: 1, vote: 2, commit: 7 } }, true);
    await s.save({ entries: ents(11, 12, 2), hardState: { term: 2, vote: 3, commit: 11 } }, true);
    s = await reopen();
    expect(s.lastIndex()).toBe(12);
    expect(s.initialState().hardState).toEqual({ term: 2, vote: 3, commit: 11 });
    expect(s.entries(1, 13, Infinity).map(dec)).toEqual([...ents(1, 10, 1), ...ents(11, 12, 2)].map(dec));
    expect(s.term(12)).toBe(2);
  });

  it('replaces a conflicting tail with a new leader entries, on disk too', async () => {
    let s = await reopen();
    await s.save({ entries: ents(1, 10, 1) }, true);
    await s.save({ entries: ents(6, 7, 2) }, true);
    expect(s.lastIndex()).toBe(7);
    s = await reopen();
    expect(s.lastIndex()).toBe(7);
    expect(s.term(5)).toBe(1);
    expect(s.term(6)).toBe(2);
    expect(s.entries(6, 8, Infinity).map(dec)).toEqual(['e6t2', 'e7t2']);
  });

  it('keeps a snapshot and the entries after the compaction point', async () => {
    let s = await reopen();
    await s.save({ entries: ents(1, 20, 1), hardState: { term: 1, vote: 1, commit: 20 } }, true);
    const cs = { voters: [1, 2, 3], learners: [4] };
    await s.createSnapshot(15, cs, enc.encode('state@15'));
    await s.compact(10);
    expect(s.firstIndex()).toBe(11);
    expect(() => s.term(9)).toThrow(ErrCompacted);
    s = await reopen();
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(20);
    expect(s.term(10)).toBe(1);
    expect(s.snapshot().metadata).toEqual({ index: 15, term: 1, confState: cs });
    expect(new TextDecoder().decode(s.snapshot().data)).toBe('state@15');
    expect(s.initialState().confState).toEqual(cs);
    await expect(s.compact(16)).rejects.toMatchObject({ code: 'invalid' });
  });

  it('keeps in memory only what the log needs: entries in buffers of their own size, snapshot data on disk', async () => {
    let s = await reopen();
    // Data that is a view into a larger buffer (a peer's message, Node's buffer pool).
    const message = new Uint8Array(64 * 1024);
    const entries = [1, 2, 3].map((index) => ({ type: 'normal' as const, term: 1, index, data: message.subarray(index * 10, index * 10 + 5) }));
    message.fill(7);
    await s.save({ entries, hardState: { term: 1, vote: 1, commit: 3 } }, true);
    for (const e of s.entries(1, 4, Infinity)) {
      expect(e.data.buffer.byteLength).toBe(5);
      expect([...e.data]).toEqual([7, 7, 7, 7, 7]);
    }
    const made = await s.createSnapshot(3, { voters: [1], learners: [] }, enc.encode('the whole state'));
    expect(new TextDecoder().decode(made.data)).toBe('the whole state');
    expect(s.snapshot().metadata.index).toBe(3);
    expect(s.snapshot().data.byteLength).toBe(0);
    const leader = { data: enc.encode('leader state'), metadata: { index: 9, term: 2, confState: { voters: [1], learners: [] } } };
    await s.save({ snapshot: leader, entries: [], hardState: { term: 2, vote: 0, commit: 9 } }, true);
    expect(s.snapshot().data.byteLength).toBe(0);
    // On disk all along: open() reads it back for the host to restore from.
    s = await reopen();
    expect(new TextDecoder().decode(s.snapshot().data)).toBe('leader state');
    s.releaseSnapshotData();
    expect(s.snapshot().metadata.index).toBe(9);
    expect(s.snapshot().data.byteLength).toBe(0);
  });

  it('ignores entries a crash left below the compaction point, and clears them later', async () => {
    let s = await reopen();
    await s.save({ entries: ents(1, 20, 1), hardState: { term: 1, vote: 1, commit: 20 } }, true);
    await s.createSnapshot(12, { voters: [1], learners: [] }, enc.encode('s'));
    await s.compact(10);
    // As if the process died after moving the compaction point but before clearing.
    await s.db.put(entryKey(3), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1]));
    s = await reopen();
    expect(s.firstIndex()).toBe(11);
    expect(s.entries(11, 21, Infinity)).toHaveLength(10);
    await s.createSnapshot(15, { voters: [1], learners: [] }, enc.encode('s'));
    await s.compact(14);
    expect(await s.db.get(entryKey(3))).toBeUndefined();
  });

  it('installs a leader snapshot in place of the whole log', async () => {
    let s = await reopen();
    await s.save({ entries: ents(1, 5, 1) }, true);
    const snap = { data: enc.encode('leader state'), metadata: { index: 50, term: 3, confState: { voters: [1, 2], learners: [] } } };
    await s.save({ snapshot: snap, entries: ents(51, 52, 3), hardState: { term: 3, vote: 0, commit: 50 } }, true);
    s = await reopen();
    expect(s.firstIndex()).toBe(51);
    expect(s.lastIndex()).toBe(52);
    expect(s.term(50)).toBe(3);
    expect(s.snapshot().metadata.index).toBe(50);
    expect(s.initialState().hardState.commit).toBe(50);
  });

  it('writes everything one Ready carries in one synced batch (group commit)', async () => {
    const s = await reopen();
    const batch = vi.spyOn(s.db, 'batch');
    await s.save({ entries: ents(1, 256, 1), hardState: { term: 1, vote: 1, commit: 0 } }, true);
    expect(batch).toHaveBeenCalledTimes(1);
    expect((batch.mock.calls[0] as unknown[])[1]).toEqual({ sync: true });
    expect(s.stats).toEqual({ writes: 1, syncedWrites: 1 });
    // Only a new commit index: no write of its own; it goes with the next one.
    await s.save({ entries: [], hardState: { term: 1, vote: 1, commit: 256 } }, false);
    expect(batch).toHaveBeenCalledTimes(1);
    expect(s.initialState().hardState.commit).toBe(256);
    await s.save({ entries: ents(257, 257, 1) }, true);
    expect(batch).toHaveBeenCalledTimes(2);
    const reopened = await reopen();
    expect(reopened.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 256 });
  });

  it('writes a pending commit index with a snapshot and on close', async () => {
    let s = await reopen();
    await s.save({ entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 0 } }, true);
    await s.save({ entries: [], hardState: { term: 1, vote: 1, commit: 8 } }, false);
    await s.createSnapshot(8, { voters: [1], learners: [] }, enc.encode('s'));
    await s.save({ entries: [], hardState: { term: 1, vote: 1, commit: 10 } }, false);
    s = await reopen();
    expect(s.initialState().hardState.commit).toBe(10);
    expect(s.snapshot().metadata.index).toBe(8);
  });

  it('recovers a valid prefix after SIGKILL in the middle of synced writes', async () => {
    // The child appends one entry per synced save (hard state: commit = that index) and
    // prints each index once the save resolved. Whatever it printed must be there.
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../test/fixtures/storage-writer.ts'), dir], {
      cwd: join(import.meta.dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    let out = '';
    const waited = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const lines = out.split('\n');
        out = lines.pop()!;
        for (const l of lines) if (/^\d+$/.test(l)) acked = Number(l);
        if (acked >= 300) resolve();
      });
      child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waited;
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const s = await reopen();
    expect(s.lastIndex()).toBeGreaterThanOrEqual(acked);
    const hs = s.initialState().hardState;
    expect(hs.commit).toBeGreaterThanOrEqual(acked);
    expect(hs.commit).toBeLessThanOrEqual(s.lastIndex());
    // Contiguous and intact: every entry reads back as written.
    const all = s.entries(1, s.lastIndex() + 1, Infinity);
    all.forEach((e, i) => expect(dec(e)).toBe(`e${i + 1}t1`));
  });
});
