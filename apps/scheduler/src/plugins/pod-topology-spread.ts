// PodTopologySpread: spread matching pods evenly over topology domains (zones, hosts).
// DoNotSchedule constraints filter: placing the pod must not push its domain more than
// maxSkew above the least loaded eligible domain. ScheduleAnyway constraints score: fewer
// matching pods in the node's domain scores higher. Eligible nodes are those the pod's node
// affinity allows (nodeAffinityPolicy Honor, the default) and, with nodeTaintsPolicy Honor,
// whose taints it tolerates.

import { labelSelectorAsQuery, type LabelSelectorQuery, type TopologySpreadConstraint } from '@keel/api';
import { type FilterPlugin, MaxNodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interfaces';
import type { NodeInfo } from '../framework/node-info';
import { podMatchesNodeSelectorAndAffinity } from '../framework/node-selector';
import type { PodInfo } from '../framework/pod-info';
import type { Snapshot } from '../framework/snapshot';
import { Status } from '../framework/status';
import { findUntoleratedTaint } from '../framework/tolerations';

export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

const filterKey = 'PodTopologySpread/filter';
const scoreKey = 'PodTopologySpread/score';

interface Constraint {
  /** The selector and namespace as text: the key of the per-node count memo. */
  memoKey: string;
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelectorQuery;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  /** Domain value → matching pods there (eligible domains present even at 0). */
  counts: Map<string, number>;
}

function compile(pod: PodInfo, c: TopologySpreadConstraint): Constraint {
  const extra = (c.matchLabelKeys ?? []).filter((k) => pod.labels[k] !== undefined);
  const selector = labelSelectorAsQuery(
    c.labelSelector && {
      ...c.labelSelector,
      matchExpressions: [...(c.labelSelector.matchExpressions ?? []), ...extra.map((k) => ({ key: k, operator: 'In' as const, values: [pod.labels[k]!] }))],
    },
  );
  return {
    memoKey: `${pod.namespace} ${selector.toString()}`,
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector,
    minDomains: c.minDomains ?? 1,
    honorAffinity: c.nodeAffinityPolicy !== 'Ignore',
    honorTaints: c.nodeTaintsPolicy === 'Honor',
    counts: new Map(),
  };
}

function eligible(pod: PodInfo, c: Constraint, node: NodeInfo): boolean {
  const spec = pod.pod.spec;
  if (c.honorAffinity && !podMatchesNodeSelectorAndAffinity(spec?.nodeSelector, spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, node.node)) {
    return false;
  }
  if (c.honorTaints && findUntoleratedTaint(node.node.spec?.taints, spec?.tolerations, ['NoSchedule', 'NoExecute'])) return false;
  return true;
}

/**
 * Matching pods per node, remembered until the node changes (its generation moves): between
 * two cycles only the node that got the last pod changed, so a cycle costs a lookup per node
 * instead of a selector match per pod in the cluster.
 */
const countMemo = new WeakMap<NodeInfo, { generation: number; counts: Map<string, number> }>();

function matchingPods(pod: PodInfo, c: Constraint, node: NodeInfo): number {
  let memo = countMemo.get(node);
  if (!memo || memo.generation !== node.generation) countMemo.set(node, (memo = { generation: node.generation, counts: new Map() }));
  let n = memo.counts.get(c.memoKey);
  if (n === undefined) {
    n = 0;
    for (const p of node.pods) {
      if (p.namespace === pod.namespace && !p.pod.metadata.deletionTimestamp && c.selector.matches(p.labels)) n++;
    }
    memo.counts.set(c.memoKey, n);
  }
  return n;
}

/** Counts matching pods per domain over the eligible nodes that carry every constraint's key. */
function countDomains(pod: PodInfo, constraints: Constraint[], snapshot: Snapshot): void {
  for (const node of snapshot.nodeInfos) {
    const labels = node.node.metadata.labels ?? {};
    if (!constraints.every((c) => labels[c.topologyKey] !== undefined)) continue;
    for (const c of constraints) {
      if (!eligible(pod, c, node)) continue;
      const n = matchingPods(pod, c, node);
      const value = labels[c.topologyKey]!;
      c.counts.set(value, (c.counts.get(value) ?? 0) + n);
    }
  }
}

function constraintsOf(pod: PodInfo, when: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
  return (pod.pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === when).map((c) => compile(pod, c));
}

interface FilterState {
  constraints: Constraint[];
  minima: number[];
}

export function newPodTopologySpread(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: 'PodTopologySpread',
    events: ['AssignedPodAdd', 'AssignedPodUpdate', 'PodDelete', 'NodeAdd', 'NodeUpdate'],
    preFilter(state, pod, snapshot) {
      const constraints = constraintsOf(pod, 'DoNotSchedule');
      if (constraints.length === 0) return Status.skip();
      countDomains(pod, constraints, snapshot);
      // Fewer domains than minDomains: the global minimum counts as 0, so pods go to new domains.
      const minima = constraints.map((c) => (c.counts.size < c.minDomains ? 0 : Math.min(...c.counts.values())));
      state.write(filterKey, { constraints, minima } satisfies FilterState);
      return Status.success();
    },
    filter(state, pod, node) {
      const s = state.read<FilterState>(filterKey);
      if (!s) return Status.success();
      const labels = node.node.metadata.labels ?? {};
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        const value = labels[c.topologyKey];
        if (value === undefined) return Status.unresolvable(ErrReasonNodeLabelNotMatch);
        const self = c.selector.matches(pod.labels) ? 1 : 0;
        const skew = (c.counts.get(value) ?? 0) + self - s.minima[i]!;
        if (skew > c.maxSkew) return Status.unschedulable(ErrReasonConstraintsNotMatch);
      }
      return Status.success();
    },
    preScore(state, pod, nodes, snapshot) {
      const constraints = constraintsOf(pod, 'ScheduleAnyway');
      if (constraints.length === 0) return Status.skip();
      countDomains(pod, constraints, snapshot);
      // More domains weigh more (log), as Kubernetes' topologyNormalizingWeight.
      const weights = constraints.map((c) => {
        const domains = new Set(nodes.map((n) => n.node.metadata.labels?.[c.topologyKey]).filter((v) => v !== undefined));
        return Math.log(domains.size + 2);
      });
      state.write(scoreKey, { constraints, weights });
      return Status.success();
    },
    score(state, _pod, node) {
      const s = state.read<{ constraints: Constraint[]; weights: number[] }>(scoreKey);
      if (!s) return 0;
      const labels = node.node.metadata.labels ?? {};
      let score = 0;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        const value = labels[c.topologyKey];
        // A node without the key is ignored: it gets 0 after normalizing.
        if (value === undefined) return -1;
        score += (c.counts.get(value) ?? 0) * s.weights[i]! + (c.maxSkew - 1);
      }
      return score;
    },
    normalizeScores(_state, _pod, scores) {
      let min = Infinity;
      let max = 0;
      for (const s of scores) {
        if (s < 0) continue;
        if (s < min) min = s;
        if (s > max) max = s;
      }
      for (let i = 0; i < scores.length; i++) {
        const s = scores[i]!;
        if (s < 0) scores[i] = 0;
        else scores[i] = max === 0 ? MaxNodeScore : Math.floor((MaxNodeScore * (max + min - s)) / max);
      }
    },
  };
}
