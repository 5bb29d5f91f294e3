// Objects besides nodes and pods that scheduling decisions read: Namespaces, whose labels a
// pod affinity term's namespaceSelector selects, and the Services and ReplicaSets whose
// selectors make up the label selector of PodTopologySpread's default constraints (Kubernetes'
// DefaultSelector: the pod's group is whatever selects it). Kept current from informer events
// by the scheduler; plugins read it through the Snapshot.

import { labelSelectorAsQuery, type LabelSelector, type LabelSelectorQuery, type Namespace, type ReplicaSet, type Service } from '@keel/api';

interface ReplicaSetSelector {
  selector: LabelSelector;
  query: LabelSelectorQuery;
}

export class ClusterObjects {
  private readonly namespaces = new Map<string, Record<string, string>>();
  /** Namespace → Service name → its (non-empty) selector. */
  private readonly services = new Map<string, Map<string, Record<string, string>>>();
  private readonly replicaSets = new Map<string, Map<string, ReplicaSetSelector>>();

  setNamespace(ns: Namespace): void {
    this.namespaces.set(ns.metadata.name ?? '', ns.metadata.labels ?? {});
  }

  deleteNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  /** The labels of a namespace, or undefined when it is not known. */
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(name);
  }

  /** Names of the known namespaces whose labels `selector` matches. */
  namespacesMatching(selector: LabelSelectorQuery): string[] {
    const out: string[] = [];
    for (const [name, labels] of this.namespaces) if (selector.matches(labels)) out.push(name);
    return out;
  }

  setService(svc: Service): void {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const selector = svc.spec?.selector;
    // A Service without a selector selects no pods (its endpoints are managed by hand).
    if (!selector || Object.keys(selector).length === 0) return this.deleteService(ns, name);
    inner(this.services, ns).set(name, selector);
  }

  deleteService(namespace: string, name: string): void {
    this.services.get(namespace)?.delete(name);
  }

  setReplicaSet(rs: ReplicaSet): void {
    const ns = rs.metadata.namespace ?? 'default';
    const name = rs.metadata.name ?? '';
    const selector = rs.spec?.selector;
    if (!selector) return this.deleteReplicaSet(ns, name);
    let query: LabelSelectorQuery;
    try {
      query = labelSelectorAsQuery(selector);
    } catch {
      // An invalid selector (the apiserver validates, so only in tests) contributes nothing.
      return this.deleteReplicaSet(ns, name);
    }
    inner(this.replicaSets, ns).set(name, { selector, query });
  }

  deleteReplicaSet(namespace: string, name: string): void {
    this.replicaSets.get(namespace)?.delete(name);
  }

  /**
   * The selector of the pod's group, as kube-scheduler's DefaultSelector builds it: the labels
   * every Service selecting the pod asks for, merged, and the requirements of every ReplicaSet
   * selecting it. Undefined when nothing selects the pod (then no default spreading applies).
   */
  defaultSelector(namespace: string, podLabels: Readonly<Record<string, string>>): LabelSelector | undefined {
    const matchLabels: Record<string, string> = {};
    let any = false;
    for (const selector of this.services.get(namespace)?.values() ?? []) {
      if (!Object.entries(selector).every(([k, v]) => podLabels[k] === v)) continue;
      Object.assign(matchLabels, selector);
      any = true;
    }
    const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
    for (const { selector, query } of this.replicaSets.get(namespace)?.values() ?? []) {
      if (query.isEmpty() || !query.matches(podLabels)) continue;
      for (const [key, value] of Object.entries(selector.matchLabels ?? {})) matchExpressions.push({ key, operator: 'In', values: [value] });
      matchExpressions.push(...(selector.matchExpressions ?? []));
      any = true;
    }
    if (!any) return undefined;
    return { ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}), ...(matchExpressions.length > 0 ? { matchExpressions } : {}) };
  }
}

function inner<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let m = outer.get(key);
  if (!m) outer.set(key, (m = new Map()));
  return m;
}
