// NodeName: a pod that names its node (spec.nodeName set before scheduling) fits only there.

import type { FilterPlugin } from '../framework/interfaces';
import { Status } from '../framework/status';

export const ErrReasonNodeName = "node(s) didn't match the requested node name";

export function newNodeName(): FilterPlugin {
  return {
    name: 'NodeName',
    events: ['NodeAdd'],
    filter(_state, pod, node) {
      const wanted = pod.pod.spec?.nodeName;
      // No other node state can make a different node the named one: unresolvable.
      return !wanted || wanted === node.name ? Status.success() : Status.unresolvable(ErrReasonNodeName);
    },
  };
}
