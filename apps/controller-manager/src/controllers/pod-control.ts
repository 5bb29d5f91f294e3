// What the workload controllers (ReplicaSet, Job, DaemonSet) share about their pods: the
// ControllerRefManager's claim (adopt orphans that match the selector, release owned pods
// that stopped matching, ignore pods another controller owns) and building a pod from a
// template with the controller's ownerReference. Claim writes go to the apiserver; the
// objects it returns are copies with the new references, never the cached ones.
import {
  controllerRef,
  deepCopy,
  isPodActive,
  newControllerRef,
  withOwnerReference,
  withoutOwnerReference,
  type KubeObject,
  type LabelSelectorQuery,
  type Pod,
  type PodTemplateSpec,
} from '@keel/api';
import type { Client } from '@keel/client';
import { isNotFound } from '../runtime/controller';

export type Owner = KubeObject & { apiVersion: string; kind: string };

/** The owner with its type filled in (list items may omit apiVersion and kind). */
export function asOwner<T extends KubeObject>(obj: T, apiVersion: string, kind: string): T & Owner {
  return { ...obj, apiVersion, kind };
}

/**
 * The pods `owner` controls after adopting and releasing. Adoption and release are skipped
 * while the owner is being deleted, as Kubernetes does, so the garbage collector wins.
 */
export async function claimPods(client: Client, owner: Owner, selector: LabelSelectorQuery, pods: readonly Pod[]): Promise<Pod[]> {
  const uid = owner.metadata.uid!;
  const deleting = owner.metadata.deletionTimestamp !== undefined;
  const claimed: Pod[] = [];
  for (const pod of pods) {
    const ref = controllerRef(pod);
    const matches = selector.matches(pod.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches || deleting) {
        claimed.push(pod);
        continue;
      }
      // Owned but no longer matching: let it go.
      try {
        await client.pods(pod.metadata.namespace).update(withoutOwnerReference(deepCopy(pod), uid));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      continue;
    }
    if (!matches || deleting || pod.metadata.deletionTimestamp !== undefined || !isPodActive(pod)) continue;
    try {
      claimed.push(await client.pods(pod.metadata.namespace).update(withOwnerReference(deepCopy(pod), newControllerRef(owner))));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return claimed;
}

/** A new pod from `template`, owned by `owner`, named `<prefix><random>` by the apiserver. */
export function podFromTemplate(template: PodTemplateSpec | undefined, owner: Owner, generateName: string): Pod {
  const meta = deepCopy(template?.metadata ?? {});
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace: owner.metadata.namespace,
      ...(meta.labels ? { labels: meta.labels } : {}),
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
      ownerReferences: [newControllerRef(owner)],
    },
    spec: deepCopy(template?.spec ?? { containers: [] }),
  };
}

/**
 * Runs `count` calls in batches of 1, 2, 4, ... (Kubernetes' slowStartBatch), so a template
 * the apiserver rejects fails once instead of `count` times. Returns how many succeeded and
 * the first error; calls never started are reported as `skipped`.
 */
export async function slowStartBatch(count: number, call: () => Promise<void>): Promise<{ done: number; skipped: number; error?: unknown }> {
  let remaining = count;
  let done = 0;
  for (let batch = Math.min(remaining, 1); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, call));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    done += results.filter((r) => r.status === 'fulfilled').length;
    remaining -= batch;
    if (failed) return { done, skipped: remaining, error: failed.reason };
  }
  return { done, skipped: 0 };
}

/** The `namespace/name` of the controller a pod (or RS) names, if it is of this kind. */
export function ownerKey(obj: KubeObject, kind: string): string | undefined {
  const ref = controllerRef(obj);
  return ref && ref.kind === kind ? `${obj.metadata.namespace}/${ref.name}` : undefined;
}
