// NodeAffinity: spec.nodeSelector and required node affinity must both match the node
// (filter); each matching preferred term adds its weight (score, scaled to 0..100).

import { defaultNormalize, type FilterPlugin, type ScorePlugin } from '../framework/interfaces';
import { podMatchesNodeSelectorAndAffinity, termMatchesNode } from '../framework/node-selector';
import { Status } from '../framework/status';

export const ErrReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";

export function newNodeAffinity(): FilterPlugin & ScorePlugin {
  return {
    name: 'NodeAffinity',
    events: ['NodeAdd', 'NodeUpdate'],
    filter(_state, pod, node) {
      const spec = pod.pod.spec;
      if (!spec?.nodeSelector && !spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution) return Status.success();
      const ok = podMatchesNodeSelectorAndAffinity(spec.nodeSelector, spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, node.node);
      // Node labels do not change by evicting pods: unresolvable.
      return ok ? Status.success() : Status.unresolvable(ErrReasonNodeAffinity);
    },
    score(_state, pod, node) {
      let sum = 0;
      for (const term of pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
        if (term.weight !== 0 && termMatchesNode(term.preference, node.node)) sum += term.weight;
      }
      return sum;
    },
    normalizeScores(_state, _pod, scores) {
      defaultNormalize(scores, false);
    },
  };
}
