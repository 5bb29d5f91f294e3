// A pod as the scheduler reads it, parsed once: its key, requests, priority, host ports and
// compiled inter-pod affinity terms. Every plugin works from these, never re-parsing the
// object thousands of times per scheduling cycle.

import { labelSelectorAsQuery, type LabelSelectorQuery, type Pod, type PodAffinityTerm, type Protocol } from '@keel/api';
import { podNonZeroResourceRequests, podResourceRequests, type Resource } from './resource';

/** An inter-pod affinity term with its selector compiled and namespaces resolved. */
export interface AffinityTerm {
  selector: LabelSelectorQuery;
  /** Namespaces the term looks in; `undefined` with allNamespaces means every namespace. */
  namespaces: Set<string>;
  allNamespaces: boolean;
  /** A non-empty namespaceSelector: also the namespaces whose labels it matches. */
  namespaceSelector?: LabelSelectorQuery;
  topologyKey: string;
  /** Equal for terms that select the same pods in the same topology (memo and grouping key). */
  key: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

export interface HostPort {
  ip: string;
  protocol: Protocol;
  port: number;
}

export interface PodInfo {
  pod: Pod;
  /** `namespace/name`. */
  key: string;
  namespace: string;
  labels: Record<string, string>;
  priority: number;
  requests: Resource;
  nonZeroRequests: Resource;
  hostPorts: HostPort[];
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: WeightedAffinityTerm[];
  preferredAntiAffinity: WeightedAffinityTerm[];
}

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

function compileTerm(pod: Pod, term: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set(term.namespaces ?? []);
  // No namespaces and no namespaceSelector: the pod's own namespace. An empty selector `{}`
  // selects every namespace; a non-empty one adds the namespaces whose labels it matches.
  const ns = term.namespaceSelector;
  const allNamespaces = ns !== undefined && ns !== null && !ns.matchLabels && !(ns.matchExpressions?.length ?? 0);
  const namespaceSelector = ns && !allNamespaces ? labelSelectorAsQuery(ns) : undefined;
  if (namespaces.size === 0 && (ns === undefined || ns === null)) namespaces.add(pod.metadata.namespace ?? 'default');
  let selector = labelSelectorAsQuery(term.labelSelector);
  // matchLabelKeys: the incoming pod's own values for those keys join the selector.
  if (term.matchLabelKeys?.length && term.labelSelector) {
    const extra = term.matchLabelKeys.filter((k) => pod.metadata.labels?.[k] !== undefined);
    selector = labelSelectorAsQuery({
      ...term.labelSelector,
      matchExpressions: [
        ...(term.labelSelector.matchExpressions ?? []),
        ...extra.map((k) => ({ key: k, operator: 'In' as const, values: [pod.metadata.labels![k]!] })),
      ],
    });
  }
  return withKey({ selector, namespaces, allNamespaces, ...(namespaceSelector ? { namespaceSelector } : {}), topologyKey: term.topologyKey, key: '' });
}

function withKey<T extends AffinityTerm>(t: T): T {
  const ns = t.allNamespaces ? '*' : [...t.namespaces].sort().join(',') + (t.namespaceSelector ? `+${selectorKey(t.namespaceSelector)}` : '');
  t.key = `${ns} ${selectorKey(t.selector)} ${t.topologyKey}`;
  return t;
}

/**
 * The term with its namespaceSelector turned into the namespaces it selects now, as
 * kube-scheduler does for the incoming pod's terms in PreFilter; unchanged without one.
 */
export function resolveNamespaces<T extends AffinityTerm>(term: T, namespacesMatching: (selector: LabelSelectorQuery) => string[]): T {
  if (!term.namespaceSelector) return term;
  const namespaces = new Set([...term.namespaces, ...namespacesMatching(term.namespaceSelector)]);
  const { namespaceSelector: _resolved, ...rest } = term;
  return withKey({ ...rest, namespaces } as T);
}

/** A selector as text that tells "selects nothing" (nil) from "selects everything" ({}). */
export function selectorKey(selector: LabelSelectorQuery): string {
  return selector.requirements.length === 0 && !selector.isEmpty() ? '<nothing>' : `{${selector.toString()}}`;
}

/**
 * Whether `term` (belonging to some pod) selects `target`; `namespaceLabels` are the labels of
 * the target's namespace, which a namespaceSelector needs (without them it selects nothing).
 */
export function termMatches(term: AffinityTerm, target: PodInfo, namespaceLabels?: Readonly<Record<string, string>>): boolean {
  if (!term.allNamespaces && !term.namespaces.has(target.namespace)) {
    if (!term.namespaceSelector || !namespaceLabels || !term.namespaceSelector.matches(namespaceLabels)) return false;
  }
  return term.selector.matches(target.labels);
}

export function newPodInfo(pod: Pod): PodInfo {
  const affinity = pod.spec?.affinity;
  const hostPorts: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.hostPort && p.hostPort > 0) hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort });
    }
  }
  return {
    pod,
    key: podKey(pod),
    namespace: pod.metadata.namespace ?? 'default',
    labels: pod.metadata.labels ?? {},
    priority: podPriority(pod),
    requests: podResourceRequests(pod),
    nonZeroRequests: podNonZeroResourceRequests(pod),
    hostPorts,
    requiredAffinity: (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(pod, t)),
    requiredAntiAffinity: (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(pod, t)),
    preferredAffinity: (affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({
      ...compileTerm(pod, w.podAffinityTerm),
      weight: w.weight,
    })),
    preferredAntiAffinity: (affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({
      ...compileTerm(pod, w.podAffinityTerm),
      weight: w.weight,
    })),
  };
}

export function hasAffinity(p: PodInfo): boolean {
  return p.requiredAffinity.length + p.requiredAntiAffinity.length + p.preferredAffinity.length + p.preferredAntiAffinity.length > 0;
}
