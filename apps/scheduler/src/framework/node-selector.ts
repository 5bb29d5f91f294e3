// Node selector terms (node affinity) against a node's labels and fields, as Kubernetes
// matches them: terms are ORed, the requirements of one term ANDed, and an empty term
// matches nothing. Only `metadata.name` is a selectable field.

import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm } from '@keel/api';

function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0]!)) return false;
      return req.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
  }
}

export function termMatchesNode(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs) if (!requirementMatches(r, labels[r.key])) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name' || !requirementMatches(r, node.metadata.name)) return false;
  }
  return true;
}

export function nodeSelectorMatches(selector: NodeSelector, node: Node): boolean {
  return selector.nodeSelectorTerms.some((t) => termMatchesNode(t, node));
}

/** spec.nodeSelector and required node affinity together: both must hold. */
export function podMatchesNodeSelectorAndAffinity(
  nodeSelector: Record<string, string> | undefined,
  required: NodeSelector | undefined,
  node: Node,
): boolean {
  if (nodeSelector) {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(nodeSelector)) if (labels[k] !== v) return false;
  }
  return !required || nodeSelectorMatches(required, node);
}
