// Matching pods to nodes, as the scheduler and the node lifecycle controller need it:
// node selector terms (required node affinity; In, NotIn, Exists, DoesNotExist, Gt, Lt over
// labels, and metadata.name through matchFields), a pod's plain nodeSelector, and taints
// against tolerations.

import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, TaintEffect, Toleration } from '../types/core';

function matchRequirement(req: NodeSelectorRequirement, values: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, req.key);
  const value = has ? values[req.key]! : undefined;
  const wanted = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && wanted.includes(value!);
    case 'NotIn':
      return !has || !wanted.includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      // Both sides must be integers; anything else does not match (Kubernetes' rule).
      if (!has || wanted.length !== 1 || !/^-?[0-9]+$/.test(value!) || !/^-?[0-9]+$/.test(wanted[0]!)) return false;
      const actual = Number(value);
      const bound = Number(wanted[0]);
      return req.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** One term: every expression over labels and every field requirement holds; an empty term matches nothing. */
export function nodeMatchesTerm(node: Node, term: NodeSelectorTerm): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  const nodeFields = { 'metadata.name': node.metadata.name ?? '' };
  return expressions.every((req) => matchRequirement(req, labels)) && fields.every((req) => matchRequirement(req, nodeFields));
}

/** The terms are ORed. */
export function nodeMatchesNodeSelector(node: Node, selector: NodeSelector): boolean {
  return (selector.nodeSelectorTerms ?? []).some((term) => nodeMatchesTerm(node, term));
}

/** A pod's hard placement rules: its nodeSelector labels and its required node affinity. */
export function podMatchesNode(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return required ? nodeMatchesNodeSelector(node, required) : true;
}

/**
 * Whether a toleration tolerates a taint: effects match (an empty toleration effect matches
 * all), keys match (an empty key matches every key; validation allows that only with
 * Exists), and with Equal (the default operator) the values match too.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/**
 * The first taint, among those with one of `effects`, that no toleration tolerates; the
 * scheduler asks with NoSchedule and NoExecute, the eviction controller with NoExecute.
 */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effects: readonly TaintEffect[] = ['NoSchedule', 'NoExecute'],
): Taint | undefined {
  return (taints ?? []).find((taint) => effects.includes(taint.effect) && !(tolerations ?? []).some((t) => toleratesTaint(t, taint)));
}
