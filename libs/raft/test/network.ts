// A deterministic in-memory network of Raft state machines for unit tests, in the manner
// of etcd-io/raft's `network`: send() delivers a message and everything it causes until
// the group is quiet; cut(), isolate(), drop() and ignore() lose messages on purpose;
// recover() makes the network perfect again. The Raft objects are driven directly (no
// Ready): their unstable entries simply stay in memory, which is all these tests need.

import { MemoryStorage, Message, Raft, type Config, type MessageType, type NodeId } from '../src/index';

export interface TestRaftOptions extends Partial<Omit<Config, 'id' | 'storage'>> {
  readonly learners?: readonly NodeId[];
  readonly storage?: MemoryStorage;
}

/** A Raft with a fresh MemoryStorage whose membership is `voters` (and `learners`). */
export function newTestRaft(id: NodeId, voters: readonly NodeId[], opts: TestRaftOptions = {}): Raft {
  const storage = opts.storage ?? new MemoryStorage({ confState: { voters, learners: opts.learners ?? [] } });
  return new Raft({
    id,
    storage,
    electionTick: 10,
    heartbeatTick: 1,
    // Deterministic timeouts: exactly electionTick unless a test passes its own.
    random: () => 0,
    ...opts,
  });
}

/** Takes the messages a Raft has queued. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

export class Network {
  readonly peers = new Map<NodeId, Raft>();
  private readonly dropRates = new Map<string, number>();
  private readonly ignored = new Set<MessageType>();
  /** Messages lost so far, for tests that want to look at them. */
  readonly lost: Message[] = [];

  private readonly blackHoles = new Set<NodeId>();

  /** A network of the given Rafts, with ids 1..n; `undefined` makes a fresh voter of the n. */
  constructor(rafts: readonly (Raft | undefined)[], opts: TestRaftOptions = {}) {
    const ids = rafts.map((_, i) => i + 1);
    rafts.forEach((r, i) => this.peers.set(i + 1, r ?? newTestRaft(i + 1, ids, opts)));
  }

  static ofSize(n: number, opts: TestRaftOptions = {}): Network {
    return new Network(Array.from({ length: n }, () => undefined), opts);
  }

  /** Makes `id` a black hole: messages to it vanish. */
  blackHole(id: NodeId): void {
    this.blackHoles.add(id);
  }

  raft(id: NodeId): Raft {
    const r = this.peers.get(id);
    if (!r) throw new Error(`no peer ${id}`);
    return r;
  }

  /** Delivers the messages and everything they cause, until nothing is left to send. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    let guard = 0;
    while (queue.length > 0) {
      if (++guard > 100_000) throw new Error('network did not quiesce');
      const m = queue.shift()!;
      const to = this.peers.get(m.to);
      if (!to || this.blackHoles.has(m.to)) continue;
      to.step(m);
      queue.push(...this.filter(readMessages(to)));
    }
  }

  /** Steps a local message into `id` (MsgHup, MsgBeat, MsgProp ...) and delivers what follows. */
  stepLocal(id: NodeId, fields: Partial<Message> & Pick<Message, 'type'>): void {
    this.send(Message.create({ from: id, to: id, ...fields }));
  }

  campaign(id: NodeId): void {
    this.stepLocal(id, { type: 'MsgHup' });
  }

  propose(id: NodeId, data: string): void {
    this.stepLocal(id, { type: 'MsgProp', entries: [{ term: 0, index: 0, type: 'normal', data: bytes(data) }] });
  }

  /** Drops messages from `from` to `to` with probability `rate` (1: always). */
  drop(from: NodeId, to: NodeId, rate = 1): void {
    this.dropRates.set(`${from}-${to}`, rate);
  }

  cut(a: NodeId, b: NodeId): void {
    this.drop(a, b);
    this.drop(b, a);
  }

  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  ignore(type: MessageType): void {
    this.ignored.add(type);
  }

  recover(): void {
    this.dropRates.clear();
    this.ignored.clear();
  }

  private filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignored.has(m.type)) return false;
      // Only rate 1 is used by these tests; anything less would need a seeded PRNG.
      if ((this.dropRates.get(`${m.from}-${m.to}`) ?? 0) >= 1) {
        this.lost.push(m);
        return false;
      }
      return true;
    });
  }
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
