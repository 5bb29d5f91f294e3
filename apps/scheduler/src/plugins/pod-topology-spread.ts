// PodTopologySpread: spread matching pods evenly over topology domains (zones, hosts).
// DoNotSchedule constraints filter: placing the pod must not push its domain more than
// maxSkew above the least loaded eligible domain. ScheduleAnyway constraints score: fewer
// matching pods in the node's domain scores higher. Eligible nodes are those the pod's node
// affinity allows (nodeAffinityPolicy Honor, the default) and, with nodeTaintsPolicy Honor,
// whose taints it tolerates. The per-domain counts are kept across cycles (DomainCounts) and
// updated from the nodes whose pods changed, so a cycle does not walk every pod.

import { labelSelectorAsQuery, type LabelSelectorQuery, type TopologySpreadConstraint } from '@keel/api';
import { type FilterPlugin, MaxNodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interfaces';
import type { NodeInfo } from '../framework/node-info';
import { podMatchesNodeSelectorAndAffinity } from '../framework/node-selector';
import { type PodInfo, selectorKey } from '../framework/pod-info';
import type { Snapshot } from '../framework/snapshot';
import { DomainCounts } from '../framework/domain-counts';
import { Status } from '../framework/status';
import { findUntoleratedTaint } from '../framework/tolerations';

export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

const filterKey = 'PodTopologySpread/filter';
const scoreKey = 'PodTopologySpread/score';

interface Constraint {
  /** What the counts depend on besides the cluster: the memo key of DomainCounts. */
  memoKey: string;
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelectorQuery;
  /** Whether the incoming pod matches its own selector (it counts itself where it lands). */
  self: number;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  /** Domain value → matching pods there (eligible domains present even at 0). */
  counts: ReadonlyMap<string, number>;
}

function compile(pod: PodInfo, c: TopologySpreadConstraint): Constraint {
  const extra = (c.matchLabelKeys ?? []).filter((k) => pod.labels[k] !== undefined);
  const selector = labelSelectorAsQuery(
    c.labelSelector && {
      ...c.labelSelector,
      matchExpressions: [...(c.labelSelector.matchExpressions ?? []), ...extra.map((k) => ({ key: k, operator: 'In' as const, values: [pod.labels[k]!] }))],
    },
  );
  const honorAffinity = c.nodeAffinityPolicy !== 'Ignore';
  const honorTaints = c.nodeTaintsPolicy === 'Honor';
  const spec = pod.pod.spec;
  // Which nodes are eligible depends on the pod's node selection and tolerations: part of the key.
  const eligibility = [
    honorAffinity ? JSON.stringify([spec?.nodeSelector ?? null, spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null]) : '',
    honorTaints ? JSON.stringify(spec?.tolerations ?? null) : '',
  ].join('|');
  return {
    memoKey: `${pod.namespace} ${selectorKey(selector)} ${eligibility}`,
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector,
    self: selector.matches(pod.labels) ? 1 : 0,
    minDomains: c.minDomains ?? 1,
    honorAffinity,
    honorTaints,
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

function matchingPods(pod: PodInfo, c: Constraint, node: NodeInfo): number {
  let n = 0;
  for (const p of node.pods) {
    if (p.namespace === pod.namespace && !p.pod.metadata.deletionTimestamp && c.selector.matches(p.labels)) n++;
  }
  return n;
}

function hasKeys(node: NodeInfo, keys: readonly string[]): boolean {
  const labels = node.node.metadata.labels;
  if (!labels) return keys.length === 0;
  for (const k of keys) if (labels[k] === undefined) return false;
  return true;
}

/**
 * Counts matching pods per domain over the eligible nodes that carry every constraint's key
 * (a node missing one of the pod's topology keys counts for none of them), kept across cycles
 * in `memo` so a cycle recounts only the nodes whose pods changed.
 */
function countDomains(pod: PodInfo, constraints: Constraint[], snapshot: Snapshot, memo: DomainCounts): void {
  const keys = constraints.map((c) => c.topologyKey);
  const keysKey = keys.join(',');
  for (const c of constraints) {
    const totals = memo.totals<null>(
      snapshot,
      `${c.memoKey}|${c.topologyKey}|${keysKey}`,
      (node, add) => {
        if (!hasKeys(node, keys) || !eligible(pod, c, node)) return;
        add('', null, node.node.metadata.labels![c.topologyKey]!, matchingPods(pod, c, node));
      },
      true,
    );
    c.counts = totals.get('')?.counts ?? new Map();
  }
}

function constraintsOf(pod: PodInfo, when: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
  return (pod.pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === when).map((c) => compile(pod, c));
}

interface FilterState {
  constraints: Constraint[];
  minima: number[];
}

const constraintsNotMatch: Status = Object.freeze(Status.unschedulable(ErrReasonConstraintsNotMatch));
const nodeLabelNotMatch: Status = Object.freeze(Status.unresolvable(ErrReasonNodeLabelNotMatch));

export function newPodTopologySpread(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const memos = new DomainCounts();
  return {
    name: 'PodTopologySpread',
    events: ['AssignedPodAdd', 'AssignedPodUpdate', 'PodDelete', 'NodeAdd', 'NodeUpdate'],
    preFilter(state, pod, snapshot) {
      const constraints = constraintsOf(pod, 'DoNotSchedule');
      if (constraints.length === 0) return Status.skip();
      countDomains(pod, constraints, snapshot, memos);
      // Fewer domains than minDomains: the global minimum counts as 0, so pods go to new domains.
      const minima = constraints.map((c) => (c.counts.size < c.minDomains ? 0 : Math.min(...c.counts.values())));
      state.write(filterKey, { constraints, minima } satisfies FilterState);
      return Status.success();
    },
    filter(state, _pod, node) {
      const s = state.read<FilterState>(filterKey);
      if (!s) return Status.success();
      const labels = node.node.metadata.labels ?? {};
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        const value = labels[c.topologyKey];
        if (value === undefined) return nodeLabelNotMatch;
        const skew = (c.counts.get(value) ?? 0) + c.self - s.minima[i]!;
        if (skew > c.maxSkew) return constraintsNotMatch;
      }
      return Status.success();
    },
    preScore(state, pod, nodes, snapshot) {
      const constraints = constraintsOf(pod, 'ScheduleAnyway');
      if (constraints.length === 0) return Status.skip();
      countDomains(pod, constraints, snapshot, memos);
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
