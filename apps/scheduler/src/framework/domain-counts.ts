// Counts per topology domain that survive from one scheduling cycle to the next. PodTopologySpread
// and InterPodAffinity need, for every pod they place, how many pods matching some selector sit
// in each zone or on each host; walking every pod on every node for that costs milliseconds at
// 5,000 nodes. Here each count is a sum of per-node contributions, remembered under a key (the
// selector and what else the contribution depends on) as of a version of the cache's change log;
// the next cycle that asks recomputes only the nodes whose pods changed since. A snapshot outside
// the cache (preemption's what-ifs, tests) has no version: then everything is counted afresh.

import type { NodeInfo } from './node-info';
import type { Snapshot } from './snapshot';

/** One group's counts: key (a domain, `key=value` or a value) → total, and what the group stands for. */
export interface CountGroup<P> {
  payload: P;
  counts: Map<string, number>;
}

/** Adds `n` to `key` of `group`; `payload` describes the group (kept from its first add). */
export type Add<P> = (group: string, payload: P, key: string, n: number) => void;

/** A node's contributions; must depend only on the node's labels, taints and pods. */
export type Contribute<P> = (node: NodeInfo, add: Add<P>) => void;

export type Totals<P> = ReadonlyMap<string, CountGroup<P>>;

interface Memo<P> {
  nodeSet: object;
  version: number;
  /** Node name → its non-zero contributions as flat (group, key, n) triples, to take back. */
  perNode: Map<string, (string | number)[]>;
  totals: Map<string, CountGroup<P>>;
  /** Group → its payload and how many stored triples name it (dropped at 0). */
  groups: Map<string, { payload: P; refs: number }>;
}

function addTo<P>(totals: Map<string, CountGroup<P>>, group: string, payload: P, key: string, n: number, keepZeros: boolean): void {
  let g = totals.get(group);
  if (!g) totals.set(group, (g = { payload, counts: new Map() }));
  const next = (g.counts.get(key) ?? 0) + n;
  if (next === 0 && !keepZeros) {
    g.counts.delete(key);
    if (g.counts.size === 0) totals.delete(group);
  } else g.counts.set(key, next);
}

/**
 * Totals of `contribute` over the snapshot's nodes, counted afresh. With keepZeros a key some node
 * contributed 0 to is present at 0 (a topology domain that exists but holds no matching pod);
 * without, only non-zero totals are present.
 */
export function countAfresh<P>(nodes: readonly NodeInfo[], contribute: Contribute<P>, keepZeros: boolean): Totals<P> {
  const totals = new Map<string, CountGroup<P>>();
  const add: Add<P> = (group, payload, key, n) => addTo(totals, group, payload, key, n, keepZeros);
  for (const node of nodes) contribute(node, add);
  return totals;
}

export class DomainCounts {
  /** Insertion order is recency: the least recently used memo is dropped first. */
  private readonly memos = new Map<string, Memo<unknown>>();

  /**
   * At most `capacity` memos: one over hostnames at 5,000 nodes holds 5,000 domains, so 128 of
   * them stay in the tens of MB; a selector whose memo was dropped is counted afresh once.
   */
  constructor(private readonly capacity = 128) {}

  /**
   * The totals of `contribute` over `snapshot`, remembered under `memoKey`. The result is shared
   * with later cycles: read it, never change it.
   */
  totals<P>(snapshot: Snapshot, memoKey: string, contribute: Contribute<P>, keepZeros: boolean): Totals<P> {
    if (snapshot.version === undefined) return countAfresh(snapshot.nodeInfos, contribute, keepZeros);
    let memo = this.memos.get(memoKey) as Memo<P> | undefined;
    if (memo) this.memos.delete(memoKey);
    const changed = memo && memo.nodeSet === snapshot.nodeSetIdentity ? snapshot.changedSince(memo.version) : undefined;
    if (!memo || !changed) {
      memo = { nodeSet: snapshot.nodeSetIdentity, version: snapshot.version, perNode: new Map(), totals: new Map(), groups: new Map() };
      for (const node of snapshot.nodeInfos) this.recount(memo, node, contribute, keepZeros);
    } else {
      for (const name of changed) {
        const old = memo.perNode.get(name);
        if (old) {
          for (let i = 0; i < old.length; i += 3) {
            const group = old[i] as string;
            const g = memo.groups.get(group)!;
            addTo(memo.totals, group, g.payload, old[i + 1] as string, -(old[i + 2] as number), keepZeros);
            if (--g.refs === 0) memo.groups.delete(group);
          }
          memo.perNode.delete(name);
        }
        const node = snapshot.get(name);
        if (node) this.recount(memo, node, contribute, keepZeros);
      }
      memo.version = snapshot.version;
    }
    this.memos.set(memoKey, memo as Memo<unknown>);
    if (this.memos.size > this.capacity) this.memos.delete(this.memos.keys().next().value!);
    return memo.totals;
  }

  private recount<P>(memo: Memo<P>, node: NodeInfo, contribute: Contribute<P>, keepZeros: boolean): void {
    let mine: (string | number)[] | undefined;
    contribute(node, (group, payload, key, n) => {
      let g = memo.groups.get(group);
      if (n !== 0) {
        if (!g) memo.groups.set(group, (g = { payload, refs: 0 }));
        g.refs++;
        (mine ??= []).push(group, key, n);
      }
      addTo(memo.totals, group, g?.payload ?? payload, key, n, keepZeros);
    });
    if (mine) memo.perNode.set(node.name, mine);
  }
}
