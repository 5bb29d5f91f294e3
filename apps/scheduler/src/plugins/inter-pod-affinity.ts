// InterPodAffinity: required pod affinity (some matching pod in the node's topology domain),
// required anti-affinity (none there) — both the incoming pod's and the existing pods'
// (an existing pod that repels the incoming one keeps its domain closed) — and preferred
// terms of both sides as a score. PreFilter counts matches per `topologyKey=value` once, so
// Filter is a few map lookups per node; the counts, and the existing pods' terms grouped by
// term, are kept across cycles (DomainCounts) and updated from the nodes whose pods changed,
// so neither PreFilter nor PreScore walks every pod in the cluster. A term's namespaceSelector
// is resolved against the known Namespaces: for the incoming pod's terms into the namespaces it
// selects now, for existing pods' terms against the labels of the incoming pod's namespace.

import { type FilterPlugin, MaxNodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interfaces';
import { type Add, type Contribute, DomainCounts, type Totals } from '../framework/domain-counts';
import type { NodeInfo } from '../framework/node-info';
import { type AffinityTerm, resolveNamespaces, termMatches, type WeightedAffinityTerm } from '../framework/pod-info';
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
  /** `key=value` → pods there matching all the pod's required affinity terms (per term). */
  affinity: ReadonlyMap<string, number>;
  /** `key=value` → pods there matching one of the pod's required anti-affinity terms. */
  anti: Map<string, number>;
  /** The pod's required affinity terms with their namespaceSelectors resolved. */
  requiredAffinity: AffinityTerm[];
}

function pair(key: string, value: string): string {
  return `${key}=${value}`;
}

function countIn(counts: ReadonlyMap<string, number>, node: NodeInfo, term: AffinityTerm): number {
  const value = node.node.metadata.labels?.[term.topologyKey];
  return value === undefined ? 0 : (counts.get(pair(term.topologyKey, value)) ?? 0);
}

/** Existing pods' terms of one kind, grouped by term: term key → its term and `key=value` or value → sum. */
type TermTotals = Totals<AffinityTerm>;

/** Contributions of the existing pods' required anti-affinity terms: one per pod and term, by `key=value`. */
function existingRequiredAnti(node: NodeInfo, add: Add<AffinityTerm>): void {
  const labels = node.node.metadata.labels;
  if (!labels) return;
  for (const existing of node.podsWithRequiredAntiAffinity) {
    for (const t of existing.requiredAntiAffinity) {
      const value = labels[t.topologyKey];
      if (value !== undefined) add(t.key, t, pair(t.topologyKey, value), 1);
    }
  }
}

/** Contributions of the existing pods' terms to the incoming pod's score, by topology value. */
function existingScoreTerms(node: NodeInfo, add: Add<AffinityTerm>): void {
  const labels = node.node.metadata.labels;
  if (!labels) return;
  for (const existing of node.podsWithAffinity) {
    const weigh = (t: AffinityTerm, w: number) => {
      const value = labels[t.topologyKey];
      if (value !== undefined) add(t.key, t, value, w);
    };
    for (const t of existing.requiredAffinity) weigh(t, hardPodAffinityWeight);
    for (const t of existing.preferredAffinity) weigh(t, t.weight);
    for (const t of existing.preferredAntiAffinity) weigh(t, -t.weight);
  }
}

/** Pods matching `term` per value of its topology key. */
function podsMatching(term: AffinityTerm): Contribute<null> {
  return (node, add) => {
    const value = node.node.metadata.labels?.[term.topologyKey];
    if (value === undefined) return;
    let n = 0;
    for (const existing of node.pods) if (termMatches(term, existing)) n++;
    add('', null, value, n);
  };
}

/** Pods matching every one of `terms`, counted once per term at `key=value`. */
function podsMatchingAll(terms: readonly AffinityTerm[]): Contribute<null> {
  return (node, add) => {
    let n = 0;
    for (const existing of node.pods) if (terms.every((t) => termMatches(t, existing))) n++;
    if (n === 0) return;
    for (const t of terms) {
      const value = node.node.metadata.labels?.[t.topologyKey];
      if (value !== undefined) add('', null, pair(t.topologyKey, value), n);
    }
  };
}

function countsOf(totals: Totals<null>): ReadonlyMap<string, number> {
  return totals.get('')?.counts ?? new Map<string, number>();
}

const affinityRulesNotMatch: Status = Object.freeze(Status.unresolvable(ErrReasonAffinityRulesNotMatch));
const antiAffinityRulesNotMatch: Status = Object.freeze(Status.unschedulable(ErrReasonAntiAffinityRulesNotMatch));
const existingAntiAffinityRulesNotMatch: Status = Object.freeze(Status.unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch));

export function newInterPodAffinity(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const memo = new DomainCounts();
  return {
    name: 'InterPodAffinity',
    events: ['AssignedPodAdd', 'AssignedPodUpdate', 'PodDelete', 'NodeAdd', 'NodeUpdate'],
    preFilter(state, pod, snapshot) {
      const resolve = <T extends AffinityTerm>(t: T) => resolveNamespaces(t, (sel) => snapshot.objects.namespacesMatching(sel));
      const s: FilterState = { existingAnti: new Map(), affinity: new Map(), anti: new Map(), requiredAffinity: pod.requiredAffinity.map(resolve) };
      const nsLabels = snapshot.objects.namespaceLabels(pod.namespace);
      const existing: TermTotals = memo.totals(snapshot, 'existing-required-anti', existingRequiredAnti, false);
      for (const { payload: term, counts } of existing.values()) {
        if (!termMatches(term, pod, nsLabels)) continue;
        for (const [k, n] of counts) s.existingAnti.set(k, (s.existingAnti.get(k) ?? 0) + n);
      }
      const hasOwn = pod.requiredAffinity.length > 0 || pod.requiredAntiAffinity.length > 0;
      if (!hasOwn && s.existingAnti.size === 0) return Status.skip();
      if (s.requiredAffinity.length > 0) {
        const terms = s.requiredAffinity;
        s.affinity = countsOf(memo.totals(snapshot, `all ${terms.map((t) => t.key).join('\n')}`, podsMatchingAll(terms), false));
      }
      for (const t of pod.requiredAntiAffinity.map(resolve)) {
        for (const [value, n] of countsOf(memo.totals(snapshot, `match ${t.key}`, podsMatching(t), false))) {
          const k = pair(t.topologyKey, value);
          s.anti.set(k, (s.anti.get(k) ?? 0) + n);
        }
      }
      state.write(filterKey, s);
      return Status.success();
    },
    filter(state, pod, node) {
      const s = state.read<FilterState>(filterKey);
      if (!s) return Status.success();
      if (s.requiredAffinity.length > 0) {
        const satisfied = s.requiredAffinity.every((t) => countIn(s.affinity, node, t) > 0);
        // The first pod of a group that selects itself may go anywhere its topology keys exist.
        const firstOfGroup =
          s.affinity.size === 0 &&
          s.requiredAffinity.every((t) => termMatches(t, pod) && node.node.metadata.labels?.[t.topologyKey] !== undefined);
        if (!satisfied && !firstOfGroup) return affinityRulesNotMatch;
      }
      for (const t of pod.requiredAntiAffinity) {
        if (countIn(s.anti, node, t) > 0) return antiAffinityRulesNotMatch;
      }
      if (s.existingAnti.size > 0) {
        for (const [k, v] of Object.entries(node.node.metadata.labels ?? {})) {
          if ((s.existingAnti.get(pair(k, v)) ?? 0) > 0) return existingAntiAffinityRulesNotMatch;
        }
      }
      return Status.success();
    },
    preScore(state, pod, _nodes, snapshot) {
      // topologyKey → value → score, so Score looks up only the keys that carry weight.
      const scores = new Map<string, Map<string, number>>();
      const add = (topologyKey: string, value: string, weight: number) => {
        let byValue = scores.get(topologyKey);
        if (!byValue) scores.set(topologyKey, (byValue = new Map()));
        byValue.set(value, (byValue.get(value) ?? 0) + weight);
      };
      // The incoming pod's preferences: each matching pod in a domain adds the term's weight there.
      const resolve = <T extends AffinityTerm>(t: T) => resolveNamespaces(t, (sel) => snapshot.objects.namespacesMatching(sel));
      const own: [WeightedAffinityTerm, number][] = [
        ...pod.preferredAffinity.map((t): [WeightedAffinityTerm, number] => [resolve(t), t.weight]),
        ...pod.preferredAntiAffinity.map((t): [WeightedAffinityTerm, number] => [resolve(t), -t.weight]),
      ];
      for (const [t, weight] of own) {
        for (const [value, n] of countsOf(memo.totals(snapshot, `match ${t.key}`, podsMatching(t), false))) add(t.topologyKey, value, n * weight);
      }
      // The existing pods' terms that select the incoming pod, grouped by term.
      const existing: TermTotals = memo.totals(snapshot, 'existing-score-terms', existingScoreTerms, false);
      const nsLabels = snapshot.objects.namespaceLabels(pod.namespace);
      for (const { payload: term, counts } of existing.values()) {
        if (!termMatches(term, pod, nsLabels)) continue;
        for (const [value, w] of counts) add(term.topologyKey, value, w);
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
