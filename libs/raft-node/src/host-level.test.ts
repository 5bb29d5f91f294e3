// RaftHost over real LevelDB storage (fake clock, in-memory network): a burst of
// proposals costs one synced batch, and a restarted member gets its state back from its
// snapshot plus the log after it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from './clock';
import { GrpcTransport } from './grpc-transport';
import { RaftHost, type AppliedEntry, type StateMachine } from './host';
import { LevelStorage } from './level-storage';
import { LocalNetwork } from './transport';

const enc = new TextEncoder();
const dec = new TextDecoder();

class ListMachine implements StateMachine {
  values: string[] = [];
  restoredFrom = 0;
  apply(e: AppliedEntry): void {
    this.values.push(dec.decode(e.data));
  }
  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify(this.values));
  }
  restore(data: Uint8Array, index: number): void {
    this.values = data.length ? (JSON.parse(dec.decode(data)) as string[]) : [];
    this.restoredFrom = index;
  }
}

describe('RaftHost on LevelStorage', () => {
  let dir: string;
  let host: RaftHost | undefined;
  const clock = new FakeClock();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-raft-host-'));
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function startMember(sm: ListMachine): Promise<{ host: RaftHost; storage: LevelStorage }> {
    const storage = await LevelStorage.open(dir);
    host = new RaftHost({
      id: 1,
      storage,
      transport: new LocalNetwork().transport(1),
      stateMachine: sm,
      clock,
      bootstrap: { 1: '127.0.0.1:1' },
      snapshotEvery: 10,
      keepEntries: 3,
    });
    await host.start();
    host.campaign();
    await host.waitForLeader(1000);
    return { host, storage };
  }

  it('writes a burst of proposals with one synced batch', async () => {
    const { host, storage } = await startMember(new ListMachine());
    await host.propose(enc.encode('warm-up'));
    const batch = vi.spyOn(storage.db, 'batch');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => host.propose(enc.encode(`p${i}`))));
    expect(results.map((r) => r.index)).toEqual(results.map((_, i) => results[0]!.index + i));
    const synced = batch.mock.calls.filter((c) => ((c as unknown[])[1] as { sync?: boolean } | undefined)?.sync === true);
    expect(synced).toHaveLength(1);
  });

  it('releases its storage when it cannot start (the address is taken)', async () => {
    const squatter = new GrpcTransport({ id: 9, listen: '127.0.0.1:0' });
    await squatter.start({ receive: () => undefined, reportUnreachable: () => undefined, reportSnapshot: () => undefined });
    try {
      const failing = new RaftHost({
        id: 1,
        storage: await LevelStorage.open(dir),
        transport: new GrpcTransport({ id: 1, listen: squatter.address }),
        stateMachine: new ListMachine(),
        clock,
        bootstrap: { 1: squatter.address },
      });
      await expect(failing.start()).rejects.toMatchObject({ code: 'transport' });
      // The LevelDB lock is released: the directory opens again.
      await (await LevelStorage.open(dir)).close();
    } finally {
      await squatter.stop();
    }
  });

  it('comes back after a restart with its snapshot and the entries after it', async () => {
    let sm = new ListMachine();
    let member = await startMember(sm);
    for (let i = 0; i < 25; i++) await member.host.propose(enc.encode(`v${i}`));
    const before = member.host.status();
    expect(before.snapshotIndex).toBeGreaterThan(0);
    expect(before.firstIndex).toBeGreaterThan(1);
    await member.host.stop();

    sm = new ListMachine();
    member = await startMember(sm);
    expect(sm.restoredFrom).toBe(before.snapshotIndex);
    expect(sm.values).toEqual(Array.from({ length: 25 }, (_, i) => `v${i}`));
    await member.host.propose(enc.encode('after restart'));
    expect(sm.values.at(-1)).toBe('after restart');
  });
});
