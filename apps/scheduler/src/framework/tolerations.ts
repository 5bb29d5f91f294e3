// Taints and tolerations as Kubernetes matches them (v1helper.TolerationsTolerateTaint).

import type { Taint, Toleration } from '@keel/api';

export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  // An empty key with operator Exists tolerates every taint.
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function toleratesAny(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The first taint with one of `effects` that no toleration covers. */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effects: readonly string[],
): Taint | undefined {
  for (const taint of taints ?? []) {
    if (effects.includes(taint.effect) && !toleratesAny(tolerations, taint)) return taint;
  }
  return undefined;
}
