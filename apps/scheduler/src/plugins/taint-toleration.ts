// TaintToleration: a node's NoSchedule and NoExecute taints keep out every pod that does not
// tolerate them (the message names the first one, as Kubernetes does); PreferNoSchedule
// taints only lower the score, more untolerated ones scoring lower.

import { defaultNormalize, type FilterPlugin, type ScorePlugin } from '../framework/interfaces';
import { Status } from '../framework/status';
import { findUntoleratedTaint, toleratesAny } from '../framework/tolerations';

export function newTaintToleration(): FilterPlugin & ScorePlugin {
  return {
    name: 'TaintToleration',
    events: ['NodeAdd', 'NodeUpdate'],
    filter(_state, pod, node) {
      const taint = findUntoleratedTaint(node.node.spec?.taints, pod.pod.spec?.tolerations, ['NoSchedule', 'NoExecute']);
      if (!taint) return Status.success();
      // Evicting pods does not remove a taint: preemption cannot help.
      return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
    },
    score(_state, pod, node) {
      const taints = node.node.spec?.taints;
      if (!taints) return 0;
      // Only tolerations that could apply to PreferNoSchedule count here.
      const tolerations = (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
      let count = 0;
      for (const taint of taints) if (taint.effect === 'PreferNoSchedule' && !toleratesAny(tolerations, taint)) count++;
      return count;
    },
    normalizeScores(_state, _pod, scores) {
      defaultNormalize(scores, true);
    },
  };
}
