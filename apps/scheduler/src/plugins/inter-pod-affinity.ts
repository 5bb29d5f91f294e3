// InterPodAffinity: required pod affinity (some matching pod in the node's topology domain),
// required anti-affinity (none there) — both the incoming pod's and the existing pods'
// (an existing pod that repels the incoming one keeps its domain closed) — and preferred
// terms of both sides as a score. PreFilter counts matches per `topologyKey=value` once, so
// Filter is a few map lookups per node.

import { type FilterPlugin, MaxNodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interfaces';
import type { NodeInfo } from '../framework/node-info';
import { type AffinityTerm, type PodInfo, termMatches } from '../framework/pod-info';
import { Status } from '../framework/status';

export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";
export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";

const filterKey = 'InterPodAffinity/filter';
const scoreKey = 'InterPodAffinity/score';
/** Kubernetes' hardPodAffinityWeight: existing pods' required affinity counts as a preference too. */
const hardPodAffinityWeight = 1;

interface FilterState {
  /** `key=value` → pods there repelling the incoming pod. */
  existingAnti: Map<string, number>;
  affinity: Map<string, number>;
  anti: Map<string, number>;
}

function pair(key: string, value: string): string {
  return `${key}=${value}`;
}

function bump(counts: Map<string, number>, node: NodeInfo, term: AffinityTerm, by = 1): void {
  const value = node.node.metadata.labels?.[term.topologyKey];
  if (value === undefined) return;
  const k = pair(term.topologyKey, value);
  counts.set(k, (counts.get(k) ?? 0) + by);
}

function countIn(counts: Map<string, number>, node: NodeInfo, term: AffinityTerm): number {
  const value = node.node.metadata.labels?.[term.topologyKey];
  return value === undefined ? 0 : (counts.get(pair(term.topologyKey, value)) ?? 0);
}

export function newInterPodAffinity(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: 'InterPodAffinity',
    events: ['AssignedPodAdd', 'AssignedPodUpdate', 'PodDelete', 'NodeAdd', 'NodeUpdate'],
    preFilter(state, pod, snapshot) {
      const s: FilterState = { existingAnti: new Map(), affinity: new Map(), anti: new Map() };
      for (const node of snapshot.nodesWithRequiredAntiAffinityPods()) {
        for (const existing of node.podsWithRequiredAntiAffinity) {
          for (const term of existing.requiredAntiAffinity) if (termMatches(term, pod)) bump(s.existingAnti, node, term);
        }
      }
      const hasOwn = pod.requiredAffinity.length > 0 || pod.requiredAntiAffinity.length > 0;
      if (!hasOwn && s.existingAnti.size === 0) return Status.skip();
      if (hasOwn) {
        for (const node of snapshot.nodeInfos) {
          for (const existing of node.pods) {
            if (pod.requiredAffinity.length > 0 && pod.requiredAffinity.every((t) => termMatches(t, existing))) {
              for (const t of pod.requiredAffinity) bump(s.affinity, node, t);
            }
            for (const t of pod.requiredAntiAffinity) if (termMatches(t, existing)) bump(s.anti, node, t);
          }
        }
      }
      state.write(filterKey, s);
      return Status.success();
    },
    filter(state, pod, node) {
      const s = state.read<FilterState>(filterKey);
      if (!s) return Status.success();
      if (pod.requiredAffinity.length > 0) {
        const satisfied = pod.requiredAffinity.every((t) => countIn(s.affinity, node, t) > 0);
        // The first pod of a group that selects itself may go anywhere its topology keys exist.
        const firstOfGroup =
          s.affinity.size === 0 &&
          pod.requiredAffinity.every((t) => termMatches(t, pod) && node.node.metadata.labels?.[t.topologyKey] !== undefined);
        if (!satisfied && !firstOfGroup) return Status.unresolvable(ErrReasonAffinityRulesNotMatch);
      }
      for (const t of pod.requiredAntiAffinity) {
        if (countIn(s.anti, node, t) > 0) return Status.unschedulable(ErrReasonAntiAffinityRulesNotMatch);
      }
      if (s.existingAnti.size > 0) {
        for (const [k, v] of Object.entries(node.node.metadata.labels ?? {})) {
          if ((s.existingAnti.get(pair(k, v)) ?? 0) > 0) return Status.unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch);
        }
      }
      return Status.success();
    },
    preScore(state, pod, _nodes, snapshot) {
      const hasPreferred = pod.preferredAffinity.length + pod.preferredAntiAffinity.length > 0;
      const candidates = hasPreferred ? snapshot.nodeInfos : snapshot.nodesWithAffinityPods();
      if (candidates.length === 0) return Status.skip();
      // topologyKey → value → score, so Score looks up only the keys that carry weight.
      const scores = new Map<string, Map<string, number>>();
      const add = (node: NodeInfo, term: AffinityTerm, weight: number) => {
        const value = node.node.metadata.labels?.[term.topologyKey];
        if (value === undefined) return;
        let byValue = scores.get(term.topologyKey);
        if (!byValue) scores.set(term.topologyKey, (byValue = new Map()));
        byValue.set(value, (byValue.get(value) ?? 0) + weight);
      };
      for (const node of candidates) {
        for (const existing of hasPreferred ? node.pods : node.podsWithAffinity) {
          for (const t of pod.preferredAffinity) if (termMatches(t, existing)) add(node, t, t.weight);
          for (const t of pod.preferredAntiAffinity) if (termMatches(t, existing)) add(node, t, -t.weight);
          scoreExisting(existing, pod, node, add);
        }
      }
      if (scores.size === 0) return Status.skip();
      state.write(scoreKey, scores);
      return Status.success();
    },
    score(state, _pod, node) {
      const scores = state.read<Map<string, Map<string, number>>>(scoreKey);
      const labels = node.node.metadata.labels;
      if (!scores || !labels) return 0;
      let sum = 0;
      for (const [key, byValue] of scores) {
        const value = labels[key];
        if (value !== undefined) sum += byValue.get(value) ?? 0;
      }
      return sum;
    },
    normalizeScores(_state, _pod, scores) {
      let min = Infinity;
      let max = -Infinity;
      for (const s of scores) {
        if (s < min) min = s;
        if (s > max) max = s;
      }
      const diff = max - min;
      for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.floor((MaxNodeScore * (scores[i]! - min)) / diff) : 0;
    },
  };
}

/** The existing pod's own terms that concern the incoming pod. */
function scoreExisting(existing: PodInfo, incoming: PodInfo, node: NodeInfo, add: (n: NodeInfo, t: AffinityTerm, w: number) => void): void {
  for (const t of existing.requiredAffinity) if (termMatches(t, incoming)) add(node, t, hardPodAffinityWeight);
  for (const t of existing.preferredAffinity) if (termMatches(t, incoming)) add(node, t, t.weight);
  for (const t of existing.preferredAntiAffinity) if (termMatches(t, incoming)) add(node, t, -t.weight);
}
