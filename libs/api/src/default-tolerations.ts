// DefaultTolerationSeconds, Kubernetes' admission plugin of that name: a new pod that does not
// already tolerate the node lifecycle's NoExecute taints (`node.kubernetes.io/not-ready`,
// `node.kubernetes.io/unreachable`) gets tolerations for them with a bound, so a node that
// misses a few heartbeats does not have its pods evicted at once, yet pods on a node that
// stays gone are still moved after that many seconds (300 by default, as kube-apiserver's
// --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds).
import type { Pod, Toleration } from './types/core';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const DEFAULT_TOLERATION_SECONDS = 300;

export interface DefaultTolerationSeconds {
  notReadySeconds: number;
  unreachableSeconds: number;
}

/**
 * Whether one of the tolerations already covers a NoExecute taint with this key. As the
 * plugin decides it: an empty key (every key) or the same key, with an empty effect (every
 * effect) or NoExecute — whatever its operator, value or seconds.
 */
function coversNoExecute(tolerations: readonly Toleration[], key: string): boolean {
  return tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
}

/** Adds the two default tolerations to a pod being created, unless it tolerates them already. */
export function addDefaultTolerations(pod: Pod, seconds: DefaultTolerationSeconds): void {
  if (!pod.spec) return;
  const existing = pod.spec.tolerations ?? [];
  const added: Toleration[] = [];
  if (!coversNoExecute(existing, TAINT_NODE_NOT_READY)) {
    added.push({ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds.notReadySeconds });
  }
  if (!coversNoExecute(existing, TAINT_NODE_UNREACHABLE)) {
    added.push({ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds.unreachableSeconds });
  }
  if (added.length > 0) pod.spec.tolerations = [...existing, ...added];
}
