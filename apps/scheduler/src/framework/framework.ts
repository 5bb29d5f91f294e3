// The framework of one profile: the configured plugins, instantiated once from the
// registry, and the runners for each extension point. A runner stops a node at the first
// rejecting filter (its reasons are what the failure message counts), skips the filters
// whose PreFilter said Skip, and weights normalized scores. Finding feasible nodes uses a
// second, faster path: the filters are pure and a node is feasible only if all of them pass,
// so they can run in any order; the one that rejected the last node goes first (a topology
// spread constraint that closes 9 of 10 zones is then one map lookup per closed node). The
// diagnosis, whose reasons name the first failing filter, uses the configured order.

import { type ResolvedProfile, resolveProfile, type SchedulerConfiguration } from './config';
import {
  type AnyPlugin,
  type ClusterEvent,
  CycleState,
  type FilterPlugin,
  isFilter,
  isPreFilter,
  isPreScore,
  isScore,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from './interfaces';
import type { NodeInfo } from './node-info';
import type { PodInfo } from './pod-info';
import type { Snapshot } from './snapshot';
import { Status } from './status';
import type { PluginFactory } from '../plugins/registry';

export interface WeightedScorePlugin {
  plugin: ScorePlugin;
  preScore?: PreScorePlugin;
  weight: number;
}

export interface PreFilterResult {
  status: Status;
  /** Filter plugins whose PreFilter answered Skip for this pod. */
  skipped: Set<string>;
}

export class Framework {
  readonly profile: ResolvedProfile;
  readonly preFilters: PreFilterPlugin[] = [];
  readonly filters: FilterPlugin[] = [];
  readonly scores: WeightedScorePlugin[] = [];
  /** The filters, most recently rejecting first (see passesFilters). */
  private readonly filterOrder: FilterPlugin[] = [];

  constructor(registry: Readonly<Record<string, PluginFactory>>, config: SchedulerConfiguration = {}) {
    this.profile = resolveProfile(config);
    const instances = new Map<string, AnyPlugin>();
    const get = (name: string): AnyPlugin => {
      let p = instances.get(name);
      if (!p) {
        const factory = registry[name];
        if (!factory) throw new Error(`unknown scheduler plugin "${name}"`);
        instances.set(name, (p = factory(this.profile.args.get(name))));
      }
      return p;
    };
    for (const name of this.profile.filter) {
      const p = get(name);
      if (!isFilter(p)) throw new Error(`scheduler plugin "${name}" is not a filter plugin`);
      if (isPreFilter(p)) this.preFilters.push(p);
      this.filters.push(p);
    }
    this.filterOrder.push(...this.filters);
    for (const { name, weight } of this.profile.score) {
      const p = get(name);
      if (!isScore(p)) throw new Error(`scheduler plugin "${name}" is not a score plugin`);
      this.scores.push({ plugin: p, weight, ...(isPreScore(p) ? { preScore: p } : {}) });
    }
  }

  /** Plugins that registered this event; a pod rejected only by others need not retry. */
  pluginsInterestedIn(event: ClusterEvent): Set<string> {
    const out = new Set<string>();
    for (const p of [...this.filters, ...this.preFilters]) if (p.events?.includes(event)) out.add(p.name);
    return out;
  }

  runPreFilters(state: CycleState, pod: PodInfo, snapshot: Snapshot): PreFilterResult {
    const skipped = new Set<string>();
    for (const p of this.preFilters) {
      const s = p.preFilter(state, pod, snapshot);
      if (s.code === 'Skip') skipped.add(p.name);
      else if (s.code !== 'Success') return { status: { ...s, plugin: p.name }, skipped };
    }
    return { status: Status.success(), skipped };
  }

  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo, skipped: Set<string>): Status {
    for (const p of this.filters) {
      if (skipped.size > 0 && skipped.has(p.name)) continue;
      const s = p.filter(state, pod, node);
      if (s.code !== 'Success') return { ...s, plugin: p.name };
    }
    return Status.success();
  }

  /**
   * Success when every filter passes `node`; otherwise some rejecting status, not necessarily
   * the first in the configured order and without `plugin` (run runFilters for the reason
   * Kubernetes would report). An Error ends the search either way, so it is always returned.
   */
  passesFilters(state: CycleState, pod: PodInfo, node: NodeInfo, skipped: Set<string>): Status {
    const order = this.filterOrder;
    for (let i = 0; i < order.length; i++) {
      const p = order[i]!;
      if (skipped.size > 0 && skipped.has(p.name)) continue;
      const s = p.filter(state, pod, node);
      if (s.code === 'Success') continue;
      if (i > 0) {
        order.copyWithin(1, 0, i);
        order[0] = p;
      }
      return s.code === 'Error' ? { ...s, plugin: p.name } : s;
    }
    return Status.success();
  }

  /** Whether the pod fits `node` within `snapshot`, running PreFilter afresh (for preemption's what-ifs). */
  fits(pod: PodInfo, node: NodeInfo, snapshot: Snapshot): Status {
    const state = new CycleState();
    const pre = this.runPreFilters(state, pod, snapshot);
    if (pre.status.code !== 'Success') return pre.status;
    return this.runFilters(state, pod, node, pre.skipped);
  }

  /** The weighted total score of each node, in the order given. */
  runScores(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    const scores = new Array<number>(nodes.length);
    for (const { plugin, preScore, weight } of this.scores) {
      if (preScore && preScore.preScore(state, pod, nodes, snapshot).code === 'Skip') continue;
      for (let i = 0; i < nodes.length; i++) scores[i] = plugin.score(state, pod, nodes[i]!);
      plugin.normalizeScores?.(state, pod, scores);
      for (let i = 0; i < nodes.length; i++) totals[i] += scores[i]! * weight;
    }
    return totals;
  }
}
