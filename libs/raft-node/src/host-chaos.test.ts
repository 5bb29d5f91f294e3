// RaftHost's promise to callers under leader changes: three hosts on a fake clock and an
// in-memory network that is cut and healed at random while proposals arrive at random
// members. Afterwards every member holds the same applied log, every proposal that
// resolved is in it at the index it resolved with, and no proposal rejected as
// 'proposal-lost' or 'dropped' is in it at all. Seeds are printed on failure for replay.

import { describe, expect, it } from 'vitest';
import { seededRandom, randomInt } from '@keel/raft';
import { FakeClock } from './clock';
import { RaftNodeError } from './errors';
import { RaftHost, type AppliedEntry, type StateMachine } from './host';
import { MemoryDurableStorage } from './storage';
import { LocalNetwork } from './transport';

const enc = new TextEncoder();
const dec = new TextDecoder();

class LogMachine implements StateMachine {
  log: [number, string][] = [];
  apply(e: AppliedEntry): void {
    this.log.push([e.index, dec.decode(e.data)]);
  }
  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify(this.log));
  }
  restore(data: Uint8Array): void {
    this.log = data.length ? (JSON.parse(dec.decode(data)) as [number, string][]) : [];
  }
}

const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

async function run(seed: number): Promise<{ resolved: number; refused: number; slotsLost: number; unknown: number }> {
  const random = seededRandom(seed);
  const clock = new FakeClock();
  const net = new LocalNetwork();
  const ids = [1, 2, 3];
  const sms = new Map<number, LogMachine>();
  const hosts = new Map<number, RaftHost>();
  for (const id of ids) {
    const sm = new LogMachine();
    const host = new RaftHost({
      id,
      storage: new MemoryDurableStorage(),
      transport: net.transport(id),
      stateMachine: sm,
      clock,
      bootstrap: { 1: 'a:1', 2: 'b:1', 3: 'c:1' },
      random: seededRandom(seed * 10 + id),
      snapshotEvery: 40,
      keepEntries: 5,
      proposalTimeoutMs: 3000,
    });
    await host.start();
    sms.set(id, sm);
    hosts.set(id, host);
  }
  const resolved = new Map<string, number>();
  const refused = new Set<string>();
  let unknown = 0;
  let slotsLost = 0;
  const pending: Promise<void>[] = [];
  let n = 0;
  try {
    for (let tick = 0; tick < 400; tick++) {
      if (tick % 15 === 0) {
        net.heal();
        const r = random();
        if (r < 0.3) net.isolate(1 + randomInt(random, 3));
        else if (r < 0.5) net.cutLink(1 + randomInt(random, 3), 1 + randomInt(random, 3));
      }
      for (let k = randomInt(random, 3); k > 0; k--) {
        const value = `v${n++}`;
        const host = hosts.get(1 + randomInt(random, 3))!;
        pending.push(
          host.propose(enc.encode(value)).then(
            (r) => void resolved.set(value, r.index),
            (e: unknown) => {
              const code = (e as RaftNodeError).code;
              if (code === 'proposal-lost') slotsLost++;
              if (code === 'proposal-lost' || code === 'dropped') refused.add(value);
              else if (code === 'outcome-unknown') unknown++;
              else throw e;
            },
          ),
        );
      }
      clock.advance(100);
      await flush();
    }
    net.heal();
    for (let i = 0; i < 100; i++) {
      clock.advance(100);
      await flush();
    }
    await Promise.all(pending);
    // Converged: the same applied log everywhere.
    const logs = ids.map((id) => JSON.stringify(sms.get(id)!.log));
    expect(logs[1]).toBe(logs[0]);
    expect(logs[2]).toBe(logs[0]);
    const at = new Map(sms.get(1)!.log.map(([index, value]) => [value, index]));
    expect(at.size).toBe(sms.get(1)!.log.length); // each proposal at most once
    for (const [value, index] of resolved) expect(at.get(value), `${value} resolved at ${index}`).toBe(index);
    for (const value of refused) expect(at.has(value), `${value} was refused but applied`).toBe(false);
    return { resolved: resolved.size, refused: refused.size, slotsLost, unknown };
  } finally {
    for (const h of hosts.values()) await h.stop();
  }
}

describe('RaftHost under partitions', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`keeps its word to callers (seed ${seed})`, async () => {
      const r = await run(seed);
      expect(r.resolved).toBeGreaterThan(50);
    });
  }
});
