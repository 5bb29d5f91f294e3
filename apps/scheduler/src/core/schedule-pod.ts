// One scheduling decision (kube-scheduler's schedulePod): PreFilter once, Filter nodes
// starting where the last cycle stopped (so load spreads over the whole cluster) until
// enough feasible nodes are found, score those, and pick the best, ties broken at random
// (the random source is injected). When no node fits, the answer is a Diagnosis, never a throw.
// Nodes are tested with the framework's fast filter path; the per-node reasons of the
// diagnosis are worked out (in the configured filter order) only when no node fits, since a
// pod that is placed never reports them.

import { CycleState } from '../framework/interfaces';
import type { Framework } from '../framework/framework';
import type { NodeInfo } from '../framework/node-info';
import type { PodInfo } from '../framework/pod-info';
import type { Snapshot } from '../framework/snapshot';
import { type Diagnosis, newDiagnosis } from './fit-error';

export type ScheduleResult =
  | { ok: true; node: string; evaluated: number; feasible: number }
  | { ok: false; diagnosis: Diagnosis; numAllNodes: number; error?: string };

const minFeasibleNodesToFind = 100;
const minFeasibleNodesPercentageToFind = 5;

/** How many feasible nodes are enough, Kubernetes' numFeasibleNodesToFind. */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(minFeasibleNodesPercentageToFind, 50 - Math.floor(numAllNodes / 125));
  if (pct >= 100) return numAllNodes;
  return Math.max(minFeasibleNodesToFind, Math.floor((numAllNodes * pct) / 100));
}

/** Pods nominated to a node by an earlier preemption, waiting for their victims to go. */
export interface NominatedPods {
  any(): boolean;
  on(node: string): readonly PodInfo[] | undefined;
}

export class PodScheduler {
  private nextStartNodeIndex = 0;

  constructor(
    private readonly framework: Framework,
    private readonly opts: { random: () => number; percentageOfNodesToScore?: number; nominated?: NominatedPods },
  ) {}

  /** Where the next search starts (it resumes after the last node the previous one looked at). */
  get nextStart(): number {
    return this.nextStartNodeIndex;
  }

  /**
   * The node as this pod must see it: with the pods nominated there at equal or higher
   * priority counted as if already placed, so room freed by preemption for them is not
   * taken by a lesser pod meanwhile.
   */
  private withNominated(pod: PodInfo, node: NodeInfo): NodeInfo {
    const nominated = this.opts.nominated?.on(node.name);
    if (!nominated || nominated.length === 0) return node;
    const ahead = nominated.filter((p) => p.key !== pod.key && p.priority >= pod.priority);
    if (ahead.length === 0) return node;
    const clone = node.clone();
    for (const p of ahead) clone.addPod(p);
    return clone;
  }

  schedule(pod: PodInfo, snapshot: Snapshot): ScheduleResult {
    const nodes = snapshot.nodeInfos;
    const diagnosis = newDiagnosis();
    if (nodes.length === 0) return { ok: false, diagnosis, numAllNodes: 0 };
    const state = new CycleState();
    const pre = this.framework.runPreFilters(state, pod, snapshot);
    if (pre.status.code === 'Error') return { ok: false, diagnosis, numAllNodes: nodes.length, error: pre.status.reasons.join('; ') };
    if (pre.status.code !== 'Success') {
      // Rejected before any node was looked at: every node gets the same status.
      for (const n of nodes) diagnosis.nodeStatuses.set(n.name, pre.status);
      if (pre.status.plugin) diagnosis.unschedulablePlugins.add(pre.status.plugin);
      diagnosis.preFilterMessage = pre.status.reasons.join(', ');
      return { ok: false, diagnosis, numAllNodes: nodes.length };
    }

    const wanted = numFeasibleNodesToFind(nodes.length, this.opts.percentageOfNodesToScore);
    const feasible: NodeInfo[] = [];
    const rejected: NodeInfo[] = [];
    let evaluated = 0;
    const start = this.nextStartNodeIndex % nodes.length;
    const anyNominated = this.opts.nominated?.any() ?? false;
    for (let i = 0; i < nodes.length && feasible.length < wanted; i++) {
      const node = nodes[(start + i) % nodes.length]!;
      evaluated++;
      const view = anyNominated ? this.withNominated(pod, node) : node;
      const s = this.framework.passesFilters(state, pod, view, pre.skipped);
      if (s.code === 'Success') feasible.push(node);
      else if (s.code === 'Error') return { ok: false, diagnosis, numAllNodes: nodes.length, error: s.reasons.join('; ') };
      else rejected.push(view);
    }
    this.nextStartNodeIndex = (start + evaluated) % nodes.length;
    if (feasible.length === 0) {
      for (const view of rejected) {
        const s = this.framework.runFilters(state, pod, view, pre.skipped);
        if (s.code === 'Error') return { ok: false, diagnosis, numAllNodes: nodes.length, error: s.reasons.join('; ') };
        diagnosis.nodeStatuses.set(view.name, s);
        if (s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
      }
      return { ok: false, diagnosis, numAllNodes: nodes.length };
    }
    if (feasible.length === 1) return { ok: true, node: feasible[0]!.name, evaluated, feasible: 1 };

    const totals = this.framework.runScores(state, pod, feasible, snapshot);
    return { ok: true, node: this.selectHost(feasible, totals), evaluated, feasible: feasible.length };
  }

  /** The highest score; among equal ones each is equally likely (reservoir sampling). */
  private selectHost(nodes: NodeInfo[], totals: number[]): string {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      if (totals[i]! > totals[best]!) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (this.opts.random() * ties < 1) best = i;
      }
    }
    return nodes[best]!.name;
  }
}
