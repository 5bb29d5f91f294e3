// The world the interaction tests (testdata/*.txt) run in: a set of RaftNodes, each with
// a MemoryStorage and a toy state machine (the list of applied entries), joined by a
// message queue that delivers only when told to. Each command of the test language is a
// method here that returns the text it printed: the node's log lines, the Ready it
// handled, the messages delivered. Randomness is off (timeouts are exactly electionTick)
// so that the output is stable.

import {
  ConfChange,
  MemoryStorage,
  Message,
  ProposalDroppedError,
  RaftNode,
  describeEntry,
  describeMessage,
  describeProgress,
  describeReady,
  describeState,
  type ConfState,
  type Config,
  type Logger,
  type NodeId,
} from '../src/index';
import type { Directive } from './datadriven';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Level = 'debug' | 'info' | 'warn' | 'error';
const levels: Level[] = ['debug', 'info', 'warn', 'error'];

interface NodeState {
  node: RaftNode;
  storage: MemoryStorage;
  config: Config;
  /** The toy state machine: the data of every applied normal entry. */
  applied: string[];
  confState: ConfState;
}

export class InteractionEnv {
  private readonly nodes = new Map<NodeId, NodeState>();
  /** Messages sent and not yet delivered, in send order. */
  private inFlight: Message[] = [];
  /** Partition groups by node; undefined when everyone can talk to everyone. */
  private groups: Map<NodeId, number> | undefined = undefined;
  private out: string[] = [];
  private indent = '';
  private level: Level = 'info';

  private logger(): Logger {
    const emit = (lvl: Level) => (msg: string) => {
      if (levels.indexOf(lvl) >= levels.indexOf(this.level)) this.print(`${lvl.toUpperCase()} ${msg}`);
    };
    return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
  }

  private print(text: string): void {
    for (const line of text.split('\n')) this.out.push(this.indent + line);
  }

  run(d: Directive): string {
    this.out = [];
    this.indent = '';
    switch (d.cmd) {
      case 'add-nodes':
        this.addNodes(d);
        break;
      case 'campaign':
        this.get(d, 0).node.campaign();
        break;
      case 'propose':
        this.propose(d);
        break;
      case 'propose-conf-change':
        this.proposeConfChange(d);
        break;
      case 'tick':
        this.tick(d, Number(d.positional[1] ?? '1'));
        break;
      case 'tick-heartbeat':
        this.tick(d, this.get(d, 0).config.heartbeatTick);
        break;
      case 'tick-election':
        this.tick(d, this.get(d, 0).config.electionTick);
        break;
      case 'process-ready':
        for (const id of this.ids(d)) {
          if (this.ids(d).length > 1) this.print(`> ${id} handling Ready`);
          this.withIndent(this.ids(d).length > 1 ? '  ' : '', () => this.processReady(id));
        }
        break;
      case 'deliver-msgs':
        for (const id of this.ids(d)) this.deliverMsgs(id, d.args.get('drop')?.[0] === 'true');
        break;
      case 'stabilize':
        this.stabilize(d.positional.length > 0 ? this.ids(d) : [...this.nodes.keys()]);
        break;
      case 'status':
        this.status(d);
        break;
      case 'raft-log':
        this.raftLog(d);
        break;
      case 'raft-state':
        this.raftState();
        break;
      case 'applied':
        this.print(this.get(d, 0).applied.join(' ') || '(nothing applied)');
        break;
      case 'partition':
        this.partition(d);
        break;
      case 'isolate': {
        const id = Number(d.positional[0]);
        const groups = new Map<NodeId, number>();
        for (const other of this.nodes.keys()) groups.set(other, other === id ? 1 : 0);
        this.groups = groups;
        break;
      }
      case 'heal':
        this.groups = undefined;
        break;
      case 'transfer-leadership':
        this.transferLeadership(d);
        break;
      case 'read-index':
        this.get(d, 0).node.readIndex(encoder.encode(d.positional[1] ?? ''));
        break;
      case 'compact':
        this.compact(d);
        break;
      case 'report-unreachable':
        this.get(d, 0).node.reportUnreachable(Number(d.positional[1]));
        break;
      case 'report-snapshot':
        this.get(d, 0).node.reportSnapshot(Number(d.positional[1]), d.positional[2] === 'failure' ? 'failure' : 'finish');
        break;
      case 'restart':
        this.restart(d);
        break;
      case 'log-level':
        this.level = (d.positional[0] ?? 'info') as Level;
        break;
      default:
        throw new Error(`usage: unknown command ${d.cmd}`);
    }
    return this.out.join('\n');
  }

  private withIndent(indent: string, fn: () => void): void {
    const saved = this.indent;
    this.indent = saved + indent;
    try {
      fn();
    } finally {
      this.indent = saved;
    }
  }

  private ids(d: Directive): NodeId[] {
    return d.positional.map(Number).filter((n) => Number.isInteger(n) && n > 0 && this.nodes.has(n));
  }

  private get(d: Directive, at: number): NodeState {
    const id = Number(d.positional[at]);
    const n = this.nodes.get(id);
    if (!n) throw new Error(`usage: ${d.cmd}: no node ${d.positional[at]}`);
    return n;
  }

  private addNodes(d: Directive): void {
    const count = Number(d.positional[0] ?? '1');
    const voters = (d.args.get('voters') ?? []).map(Number);
    const learners = (d.args.get('learners') ?? []).map(Number);
    const index = Number(d.args.get('index')?.[0] ?? '0');
    const flag = (k: string) => d.args.get(k)?.[0] === 'true';
    const num = (k: string, dflt: number) => Number(d.args.get(k)?.[0] ?? dflt);
    for (let i = 0; i < count; i++) {
      const id = this.nodes.size + 1;
      const confState: ConfState = { voters, learners };
      let storage: MemoryStorage;
      if (flag('bootstrap')) {
        // Founded etcd-style: conf change entries at the head of the log (RaftNode.bootstrap below).
        storage = new MemoryStorage();
      } else if (index > 0) {
        // Start from a snapshot at `index`, as a group that has already been running would.
        storage = new MemoryStorage();
        storage.applySnapshot({ data: new Uint8Array(0), metadata: { index, term: 1, confState } });
      } else {
        storage = new MemoryStorage({ confState });
      }
      const config: Config = {
        id,
        storage,
        electionTick: num('election', 10),
        heartbeatTick: num('heartbeat', 1),
        preVote: flag('prevote'),
        checkQuorum: flag('checkquorum'),
        maxSizePerMsg: num('max-size-per-msg', 1024 * 1024),
        maxInflightMsgs: num('max-inflight', 256),
        readOnlyOption: d.args.get('read-only')?.[0] === 'lease-based' ? 'lease-based' : 'safe',
        // No randomness: every election timeout is exactly electionTick.
        random: () => 0,
        logger: this.logger(),
      };
      const node = new RaftNode(config);
      if (flag('bootstrap')) node.bootstrap({ voters, learners });
      this.nodes.set(id, { node, storage, config, applied: [], confState });
    }
  }

  private propose(d: Directive): void {
    const n = this.get(d, 0);
    try {
      n.node.propose(encoder.encode(d.positional[1] ?? ''));
    } catch (e) {
      if (e instanceof ProposalDroppedError) this.print(`dropped: ${e.reason}`);
      else throw e;
    }
  }

  private proposeConfChange(d: Directive): void {
    const n = this.get(d, 0);
    let cc: ConfChange;
    if (d.args.has('add')) cc = { type: 'addNode', nodeId: Number(d.args.get('add')?.[0]) };
    else if (d.args.has('learner')) cc = { type: 'addLearner', nodeId: Number(d.args.get('learner')?.[0]) };
    else if (d.args.has('remove')) cc = { type: 'removeNode', nodeId: Number(d.args.get('remove')?.[0]) };
    else throw new Error('usage: propose-conf-change <id> add=<n>|learner=<n>|remove=<n>');
    try {
      n.node.proposeConfChange(cc);
    } catch (e) {
      if (e instanceof ProposalDroppedError) this.print(`dropped: ${e.reason}`);
      else throw e;
    }
  }

  private tick(d: Directive, count: number): void {
    const n = this.get(d, 0);
    for (let i = 0; i < count; i++) n.node.tick();
  }

  /** Handles one Ready by the contract: persist, send, apply, advance. */
  private processReady(id: NodeId): void {
    const n = this.nodes.get(id);
    if (!n) return;
    if (!n.node.hasReady()) {
      this.print('<empty Ready>');
      return;
    }
    const rd = n.node.ready();
    this.print(describeReady(rd));
    // 1. persist
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    // 2. send; a message sent across a partition is lost even if the partition heals before delivery.
    for (const m of rd.messages) {
      if (this.connected(m.from, m.to)) this.inFlight.push(m);
      else this.inFlight.push({ ...m, lost: true } as Message);
    }
    // 3. apply
    if (rd.snapshot) {
      const data = decoder.decode(rd.snapshot.data);
      n.applied = data === '' ? [] : data.split(' ');
      n.confState = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) {
      if (e.type === 'confChange') {
        n.confState = n.node.applyConfChange(ConfChange.decode(e.data));
      } else if (e.data.length > 0) {
        n.applied.push(decoder.decode(e.data));
      }
    }
    // 4. advance
    n.node.advance();
  }

  private connected(from: NodeId, to: NodeId): boolean {
    if (!this.groups) return true;
    return this.groups.get(from) === this.groups.get(to);
  }

  private deliverMsgs(id: NodeId, drop: boolean): number {
    const mine = this.inFlight.filter((m) => m.to === id);
    this.inFlight = this.inFlight.filter((m) => m.to !== id);
    const n = this.nodes.get(id);
    for (const m of mine) {
      if (drop || !n || !this.connected(m.from, m.to) || (m as { lost?: boolean }).lost) {
        this.print(`dropped: ${describeMessage(m)}`);
        continue;
      }
      this.print(describeMessage(m));
      this.withIndent('  ', () => n.node.step(m));
    }
    return mine.length;
  }

  /** Alternates handling Readies and delivering messages until nothing is left to do. */
  private stabilize(ids: NodeId[]): void {
    for (;;) {
      let done = true;
      for (const id of ids) {
        const n = this.nodes.get(id);
        if (!n || !n.node.hasReady()) continue;
        done = false;
        this.print(`> ${id} handling Ready`);
        this.withIndent('  ', () => this.processReady(id));
      }
      for (const id of ids) {
        if (!this.inFlight.some((m) => m.to === id)) continue;
        done = false;
        this.print(`> ${id} receiving messages`);
        this.withIndent('  ', () => this.deliverMsgs(id, false));
      }
      if (done) return;
    }
  }

  private status(d: Directive): void {
    const st = this.get(d, 0).node.status();
    if (!st.progress) {
      this.print(`${st.id} is ${describeState(st.softState.raftState)} (lead ${st.softState.lead}); no progress to show`);
      return;
    }
    for (const [id, pr] of [...st.progress].sort((a, b) => a[0] - b[0])) this.print(`${id}: ${describeProgress(pr)}`);
  }

  private raftLog(d: Directive): void {
    const n = this.get(d, 0);
    const log = n.node.raft.log;
    const entries = log.allEntries();
    if (entries.length === 0) {
      this.print(`log is empty: first index=${log.firstIndex()}, last index=${log.lastIndex()}`);
      return;
    }
    for (const e of entries) this.print(describeEntry(e));
  }

  private raftState(): void {
    for (const [id, n] of [...this.nodes].sort((a, b) => a[0] - b[0])) {
      const st = n.node.status();
      const role = st.confState.voters.includes(id) ? 'Voter' : st.confState.learners.includes(id) ? 'Learner' : 'Non-Voter';
      this.print(`${id}: ${describeState(st.softState.raftState)} (${role}) Term:${st.hardState.term} Lead:${st.softState.lead}`);
    }
  }

  private partition(d: Directive): void {
    // partition (1) (2,3): each parenthesized group can talk only within itself.
    const groups = new Map<NodeId, number>();
    d.positional.forEach((g, i) => {
      for (const id of g.replace(/[()]/g, '').split(/[\s,]+/).filter(Boolean)) groups.set(Number(id), i + 1);
    });
    for (const id of this.nodes.keys()) if (!groups.has(id)) groups.set(id, 0);
    this.groups = groups;
  }

  private transferLeadership(d: Directive): void {
    const from = Number(d.args.get('from')?.[0]);
    const to = Number(d.args.get('to')?.[0]);
    const n = this.nodes.get(from);
    if (!n) throw new Error('usage: transfer-leadership from=<id> to=<id>');
    n.node.transferLeadership(to);
  }

  private compact(d: Directive): void {
    const n = this.get(d, 0);
    const index = Number(d.positional[1]);
    n.storage.createSnapshot(index, n.confState, encoder.encode(n.applied.join(' ')));
    n.storage.compact(index);
    this.raftLog(d);
  }

  /** Crashes a node and starts it again from what it persisted; unpersisted state is lost. */
  private restart(d: Directive): void {
    const n = this.get(d, 0);
    this.inFlight = this.inFlight.filter((m) => m.to !== n.config.id);
    const snap = n.storage.snapshot();
    const data = decoder.decode(snap.data);
    n.applied = data === '' ? [] : data.split(' ');
    n.confState = snap.metadata.confState;
    n.node = new RaftNode({ ...n.config, applied: snap.metadata.index });
  }
}
