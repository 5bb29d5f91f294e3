// PodTopologySpread: spread matching pods evenly over topology domains (zones, hosts).
// DoNotSchedule constraints filter: placing the pod must not push its domain more than
// maxSkew above the least loaded eligible domain. ScheduleAnyway constraints score: fewer
// matching pods in the node's domain scores higher. Eligible nodes are those the pod's node
// affinity allows (nodeAffinityPolicy Honor, the default) and, with nodeTaintsPolicy Honor,
// whose taints it tolerates. The per-domain counts are kept across cycles (DomainCounts) and
// updated from the nodes whose pods changed, so a cycle does not walk every pod.
// A pod with no constraints of its own gets the default constraints (args: Kubernetes' system
// defaults — hostname maxSkew 3 and zone maxSkew 5, ScheduleAnyway — or a configured list)
// with the selector of the Services and ReplicaSets that select it.

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
function countDomains(pod: PodInfo, constraints: Constraint[], snapshot: Snapshot, memo: DomainCounts, requireAllKeys = true): void {
  const allKeys = constraints.map((c) => c.topologyKey);
  for (const c of constraints) {
    const keys = requireAllKeys ? allKeys : [c.topologyKey];
    const keysKey = keys.join(',');
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

/** The plugin's args in a KubeSchedulerConfiguration's pluginConfig (PodTopologySpreadArgs). */
export interface PodTopologySpreadArgs {
  /** With defaultingType List: the constraints of pods that have none (no labelSelector: it is derived). */
  defaultConstraints?: TopologySpreadConstraint[];
  /** System (the default): Kubernetes' built-in defaults; List: defaultConstraints (empty: none). */
  defaultingType?: 'System' | 'List';
}

/** Kubernetes' system defaults: spread a Service's or ReplicaSet's pods over hosts and zones, softly. */
export const systemDefaultConstraints: readonly TopologySpreadConstraint[] = [
  { maxSkew: 3, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
  { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
];

export function validatePodTopologySpreadArgs(args: PodTopologySpreadArgs): string[] {
  const errs: string[] = [];
  const type = args.defaultingType ?? 'System';
  if (type !== 'System' && type !== 'List') errs.push(`defaultingType: Unsupported value: ${JSON.stringify(type)}: supported values: "System", "List"`);
  if (type === 'System' && (args.defaultConstraints?.length ?? 0) > 0) errs.push('defaultConstraints: Invalid value: when .defaultingType is "System", .defaultConstraints must be empty');
  (args.defaultConstraints ?? []).forEach((c, i) => {
    if (c.labelSelector) errs.push(`defaultConstraints[${i}].labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod`);
    if (!(c.maxSkew > 0)) errs.push(`defaultConstraints[${i}].maxSkew: Invalid value: ${c.maxSkew}: must be greater than zero`);
    if (!c.topologyKey) errs.push(`defaultConstraints[${i}].topologyKey: Required value`);
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') errs.push(`defaultConstraints[${i}].whenUnsatisfiable: Unsupported value`);
  });
  return errs;
}

interface PodConstraints {
  constraints: Constraint[];
  /** Built from the system defaults: a node lacking one topology key still counts for the others. */
  systemDefaulted: boolean;
}

function constraintsOf(pod: PodInfo, when: 'DoNotSchedule' | 'ScheduleAnyway', defaults: readonly TopologySpreadConstraint[], system: boolean, snapshot: Snapshot): PodConstraints {
  const own = pod.pod.spec?.topologySpreadConstraints ?? [];
  if (own.length > 0) return { constraints: own.filter((c) => c.whenUnsatisfiable === when).map((c) => compile(pod, c)), systemDefaulted: false };
  const wanted = defaults.filter((c) => c.whenUnsatisfiable === when);
  if (wanted.length === 0) return { constraints: [], systemDefaulted: false };
  // The pod's group is whatever selects it; a pod nothing selects is not spread by default.
  const labelSelector = snapshot.objects.defaultSelector(pod.namespace, pod.labels);
  if (!labelSelector) return { constraints: [], systemDefaulted: false };
  return { constraints: wanted.map((c) => compile(pod, { ...c, labelSelector })), systemDefaulted: system };
}

interface FilterState {
  constraints: Constraint[];
  minima: number[];
}

interface ScoreState {
  constraints: Constraint[];
  weights: number[];
  systemDefaulted: boolean;
}

const constraintsNotMatch: Status = Object.freeze(Status.unschedulable(ErrReasonConstraintsNotMatch));
const nodeLabelNotMatch: Status = Object.freeze(Status.unresolvable(ErrReasonNodeLabelNotMatch));

export function newPodTopologySpread(args: PodTopologySpreadArgs = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const errs = validatePodTopologySpreadArgs(args);
  if (errs.length > 0) throw new Error(`PodTopologySpread args: ${errs.join('; ')}`);
  const system = (args.defaultingType ?? 'System') === 'System';
  const defaults = system ? systemDefaultConstraints : (args.defaultConstraints ?? []);
  const memos = new DomainCounts();
  return {
    name: 'PodTopologySpread',
    events: ['AssignedPodAdd', 'AssignedPodUpdate', 'PodDelete', 'NodeAdd', 'NodeUpdate'],
    preFilter(state, pod, snapshot) {
      const { constraints } = constraintsOf(pod, 'DoNotSchedule', defaults, system, snapshot);
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
      const { constraints, systemDefaulted } = constraintsOf(pod, 'ScheduleAnyway', defaults, system, snapshot);
      if (constraints.length === 0) return Status.skip();
      countDomains(pod, constraints, snapshot, memos, !systemDefaulted);
      // More domains weigh more (log), as Kubernetes' topologyNormalizingWeight.
      const weights = constraints.map((c) => {
        const domains = new Set(nodes.map((n) => n.node.metadata.labels?.[c.topologyKey]).filter((v) => v !== undefined));
        return Math.log(domains.size + 2);
      });
      state.write(scoreKey, { constraints, weights, systemDefaulted } satisfies ScoreState);
      return Status.success();
    },
    score(state, _pod, node) {
      const s = state.read<ScoreState>(scoreKey);
      if (!s) return 0;
      const labels = node.node.metadata.labels ?? {};
      let score = 0;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        const value = labels[c.topologyKey];
        // A node without the key is ignored: it gets 0 after normalizing. Under the system
        // defaults only that constraint is left out, as Kubernetes does.
        if (value === undefined) {
          if (s.systemDefaulted) continue;
          return -1;
        }
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
