// RaftHost on a fake clock, in-memory storage and an in-memory network: elections,
// proposals (direct and forwarded), group commit, a proposal lost to a leader change,
// linearizable reads, membership changes with catch-up by snapshot, leadership transfer.

import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './clock';
import { RaftNodeError } from './errors';
import { RaftHost, type AppliedEntry, type StateMachine } from './host';
import { MemoryDurableStorage } from './storage';
import { LocalNetwork } from './transport';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Remembers every value applied, in order; its snapshot is that list. */
class ListMachine implements StateMachine {
  values: string[] = [];
  apply(e: AppliedEntry): void {
    this.values.push(dec.decode(e.data));
  }
  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify(this.values));
  }
  restore(data: Uint8Array): void {
    this.values = data.length ? (JSON.parse(dec.decode(data)) as string[]) : [];
  }
}

const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

interface Member {
  host: RaftHost;
  sm: ListMachine;
  storage: MemoryDurableStorage;
}

class Cluster {
  readonly clock = new FakeClock();
  readonly net = new LocalNetwork();
  readonly members = new Map<number, Member>();

  async add(id: number, opts: { bootstrap?: number[]; snapshotEvery?: number; keepEntries?: number } = {}): Promise<Member> {
    const sm = new ListMachine();
    const storage = new MemoryDurableStorage();
    const host = new RaftHost({
      id,
      storage,
      transport: this.net.transport(id),
      stateMachine: sm,
      clock: this.clock,
      bootstrap: opts.bootstrap ? Object.fromEntries(opts.bootstrap.map((i) => [i, `m${i}:1`])) : undefined,
      snapshotEvery: opts.snapshotEvery,
      keepEntries: opts.keepEntries,
    });
    await host.start();
    const m = { host, sm, storage };
    this.members.set(id, m);
    return m;
  }

  static async start(n: number, opts: { snapshotEvery?: number; keepEntries?: number } = {}): Promise<Cluster> {
    const c = new Cluster();
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    for (const id of ids) await c.add(id, { ...opts, bootstrap: ids });
    return c;
  }

  get(id: number): Member {
    return this.members.get(id)!;
  }

  /** Advances time one tick at a time until cond holds. */
  async until(cond: () => boolean, maxTicks = 300): Promise<void> {
    for (let i = 0; i < maxTicks; i++) {
      await flush();
      if (cond()) return;
      this.clock.advance(100);
    }
    throw new Error('condition not reached');
  }

  leader(among = [...this.members.keys()]): number | undefined {
    return among.find((id) => this.get(id).host.status().state === 'leader');
  }

  async electLeader(among?: number[]): Promise<number> {
    await this.until(() => this.leader(among) !== undefined);
    return this.leader(among)!;
  }

  /** Resolves a promise that needs the cluster to make progress (ticks while waiting). */
  async settle<T>(p: Promise<T>, maxTicks = 300): Promise<T> {
    let done = false;
    const out = p.finally(() => (done = true));
    out.catch(() => undefined);
    await this.until(() => done, maxTicks);
    return out;
  }

  async stop(): Promise<void> {
    for (const m of this.members.values()) await m.host.stop();
  }
}

describe('RaftHost', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('elects a leader and applies proposals, direct and forwarded, on every member in order', async () => {
    const c = (cluster = await Cluster.start(3));
    const lead = await c.electLeader();
    const follower = [1, 2, 3].find((id) => id !== lead)!;
    const a = await c.settle(c.get(lead).host.propose(enc.encode('a')));
    const b = await c.settle(c.get(follower).host.propose(enc.encode('b')));
    expect(b.index).toBeGreaterThan(a.index);
    await c.until(() => [1, 2, 3].every((id) => c.get(id).sm.values.length === 2));
    for (const id of [1, 2, 3]) expect(c.get(id).sm.values).toEqual(['a', 'b']);
    // Resolved only once applied on the proposing member.
    expect(c.get(follower).host.status().applied).toBeGreaterThanOrEqual(b.index);
  });

  it('persists many proposals made together in one synced write (group commit)', async () => {
    const c = (cluster = await Cluster.start(3));
    const lead = await c.electLeader();
    await c.settle(c.get(lead).host.propose(enc.encode('warm-up')));
    const { storage } = c.get(lead);
    const before = storage.stats.syncedWrites;
    const appends: number[] = [];
    c.net.onSend = (m) => {
      if (m.type === 'MsgApp' && m.from === lead && m.entries.length > 0) appends.push(m.entries.length);
    };
    const all = Promise.all(Array.from({ length: 100 }, (_, i) => c.get(lead).host.propose(enc.encode(`p${i}`))));
    const results = await c.settle(all);
    expect(new Set(results.map((r) => r.index)).size).toBe(100);
    expect(storage.stats.syncedWrites - before).toBe(1);
    // And one append message per follower carries them all.
    expect(appends).toEqual([100, 100]);
    for (const id of [1, 2, 3]) await c.until(() => c.get(id).sm.values.length === 101);
  });

  it("sends a leader's appends while it writes, and tells no one of the commit until its own write is done", async () => {
    const c = (cluster = await Cluster.start(3));
    const lead = await c.electLeader();
    await c.settle(c.get(lead).host.propose(enc.encode('before')));
    await c.until(() => [1, 2, 3].every((id) => c.get(id).sm.values.length === 1));
    const { storage } = c.get(lead);
    const save = storage.save.bind(storage);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    storage.save = async (update, sync) => {
      if (update.entries.length > 0) await held;
      return save(update, sync);
    };
    let answered = false;
    const proposed = c.get(lead).host.propose(enc.encode('x')).then((r) => ((answered = true), r));
    // The followers receive and store the entry while the leader's own write is held...
    const followers = [1, 2, 3].filter((id) => id !== lead);
    await c.until(() => followers.every((id) => c.get(id).storage.lastIndex() > storage.lastIndex()), 5);
    // ...so a quorum holds it, yet while the leader's write lasts (heartbeats due, well inside
    // an election timeout) no member applies it and the proposer is not answered.
    for (let i = 0; i < 5; i++) {
      c.clock.advance(100);
      await flush();
    }
    expect(answered).toBe(false);
    for (const id of [1, 2, 3]) expect(c.get(id).sm.values).toEqual(['before']);
    storage.save = save;
    release();
    await c.settle(proposed);
    await c.until(() => [1, 2, 3].every((id) => c.get(id).sm.values.length === 2));
    for (const id of [1, 2, 3]) expect(c.get(id).sm.values).toEqual(['before', 'x']);
  });

  it('rejects a proposal whose slot a new leader filled, and never resolves it', async () => {
    const c = (cluster = await Cluster.start(3));
    const old = await c.electLeader();
    await c.settle(c.get(old).host.propose(enc.encode('before')));
    c.net.isolate(old);
    const lost = c.get(old).host.propose(enc.encode('lost'));
    lost.catch(() => undefined);
    const others = [1, 2, 3].filter((id) => id !== old);
    const next = await c.electLeader(others);
    await c.settle(c.get(next).host.propose(enc.encode('after')));
    c.net.heal();
    const err = await c.settle(lost).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RaftNodeError);
    expect((err as RaftNodeError).code).toBe('proposal-lost');
    await c.until(() => c.get(old).sm.values.length === 2);
    for (const id of [1, 2, 3]) expect(c.get(id).sm.values).toEqual(['before', 'after']);
  });

  it('serves linearizable reads on the leader and on followers', async () => {
    const c = (cluster = await Cluster.start(3));
    const lead = await c.electLeader();
    const w = await c.settle(c.get(lead).host.propose(enc.encode('x')));
    for (const id of [1, 2, 3]) {
      const index = await c.settle(c.get(id).host.readIndex());
      expect(index).toBeGreaterThanOrEqual(w.index);
      expect(c.get(id).sm.values).toContain('x');
    }
  });

  it("asks a new leader for a read whose request died with the old one, well before the read's timeout", async () => {
    const c = (cluster = await Cluster.start(3));
    const lead = await c.electLeader();
    const w = await c.settle(c.get(lead).host.propose(enc.encode('x')));
    const follower = [1, 2, 3].find((id) => id !== lead)!;
    // The leader is cut off just as the follower asks it: that request is never answered.
    c.net.isolate(lead);
    const askedAt = c.clock.now();
    const index = await c.settle(c.get(follower).host.readIndex());
    expect(index).toBeGreaterThanOrEqual(w.index);
    expect(c.leader([1, 2, 3].filter((id) => id !== lead))).toBeDefined();
    // Answered by the new leader within a few election timeouts, not at the 5 s read timeout.
    expect(c.clock.now() - askedAt).toBeLessThan(4000);
  });

  it('adds a learner that catches up by snapshot, promotes it, and removes a member', async () => {
    const c = (cluster = await Cluster.start(3, { snapshotEvery: 10, keepEntries: 2 }));
    const lead = await c.electLeader();
    for (let i = 0; i < 30; i++) await c.settle(c.get(lead).host.propose(enc.encode(`v${i}`)));
    expect(c.get(lead).host.status().firstIndex).toBeGreaterThan(1);

    await c.add(4);
    await c.settle(c.get(lead).host.addLearner(4, 'm4:1'));
    await c.until(() => c.get(4).sm.values.length === 30);
    expect(c.get(4).host.status().confState.learners).toEqual([4]);
    await expect(c.get(lead).host.addLearner(4, 'm4:1')).rejects.toMatchObject({ code: 'invalid' });
    await c.settle(c.get(lead).host.promote(4));
    const demoted = [1, 2, 3].find((id) => id !== lead)!;
    await c.settle(c.get(lead).host.removeMember(demoted));
    await c.settle(c.get(lead).host.propose(enc.encode('last')));
    await c.until(() => c.get(4).sm.values.at(-1) === 'last');
    const status = c.get(4).host.status();
    expect([...status.confState.voters].sort()).toEqual([1, 2, 3, 4].filter((id) => id !== demoted));
    expect(status.members.get(4)).toBe('m4:1');
    expect(status.members.has(demoted)).toBe(false);
  });

  it('hands leadership over on request', async () => {
    const c = (cluster = await Cluster.start(3));
    const lead = await c.electLeader();
    const to = [1, 2, 3].find((id) => id !== lead)!;
    await c.settle(c.get(lead).host.transferLeadership(to));
    expect(c.leader()).toBe(to);
    await c.settle(c.get(to).host.propose(enc.encode('from new leader')));
  });

  it('refuses proposals with no leader and rejects pending ones on stop', async () => {
    const c = (cluster = await Cluster.start(3));
    await expect(c.get(1).host.propose(enc.encode('too early'))).rejects.toMatchObject({ code: 'dropped' });
    const lead = await c.electLeader();
    c.net.isolate(lead);
    const pending = c.get(lead).host.propose(enc.encode('stuck'));
    await c.get(lead).host.stop();
    await expect(pending).rejects.toMatchObject({ code: 'stopped' });
    await expect(c.get(lead).host.propose(enc.encode('after stop'))).rejects.toMatchObject({ code: 'stopped' });
  });
});
