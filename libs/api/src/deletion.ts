// Deletion, decided without I/O: given the stored object, the DeleteOptions and the time,
// whether the apiserver removes the object from the store now or writes it back marked for
// deletion (deletionTimestamp, deletionGracePeriodSeconds, the garbage collector's
// finalizers), as Kubernetes' rest.BeforeDelete and the generic store do. Only pods delete
// gracefully: they get their termination grace period so the agent can stop them. Every
// other kind goes at once unless a finalizer holds it.

import { ApiErrors } from './errors';
import { Finalizers, formatTime } from './objects';
import type { ResourceInfo } from './scheme';
import type { Pod } from './types/core';
import type { DeleteOptions, DeletionPropagation, KubeObject, ObjectMeta } from './types/meta';
import { DefaultTerminationGracePeriodSeconds } from './defaults/core';

export type DeletionPlan<T> =
  /** Remove the object from the store now and answer with it (or a success Status). */
  | { action: 'delete'; object: T }
  /** Store `object` (marked for deletion) instead; it goes when its finalizers and grace period are done. */
  | { action: 'update'; object: T }
  /** Already being deleted and nothing to change: answer with the stored object. */
  | { action: 'pending'; object: T };

type DeletionInfo = Pick<ResourceInfo, 'group' | 'resource' | 'kind'>;

/** The propagation policy a request asks for, or undefined to keep what the object has. */
export function requestedPropagation(options: DeleteOptions): DeletionPropagation | undefined {
  if (options.propagationPolicy) return options.propagationPolicy;
  if (options.orphanDependents !== undefined) return options.orphanDependents ? 'Orphan' : 'Background';
  return undefined;
}

/** Finalizers after applying a propagation policy: Orphan and Foreground each add theirs; Background removes both. */
function finalizersFor(current: readonly string[], policy: DeletionPropagation | undefined): string[] {
  if (policy === undefined) return [...current];
  const rest = current.filter((f) => f !== Finalizers.orphan && f !== Finalizers.foregroundDeletion);
  if (policy === 'Orphan') return [...rest, Finalizers.orphan];
  if (policy === 'Foreground') return [...rest, Finalizers.foregroundDeletion];
  return rest;
}

function checkPreconditions(info: DeletionInfo, object: KubeObject, options: DeleteOptions): void {
  const pre = options.preconditions;
  const name = object.metadata.name ?? '';
  const resource = { group: info.group, resource: info.resource };
  if (pre?.uid !== undefined && pre.uid !== object.metadata.uid) {
    throw ApiErrors.conflict(
      resource,
      name,
      `the UID in the precondition (${pre.uid}) does not match the UID in record (${object.metadata.uid ?? ''}). The object might have been deleted and then recreated`,
    );
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== object.metadata.resourceVersion) {
    throw ApiErrors.conflict(
      resource,
      name,
      `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${object.metadata.resourceVersion ?? ''}). The object might have been modified`,
    );
  }
}

/** The grace period a pod gets: the request's, else its spec's; 0 if never scheduled or already finished. */
function podGracePeriod(pod: Pod, requested: number | undefined): number {
  if (requested !== undefined) return requested;
  if (!pod.spec?.nodeName) return 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  return pod.spec.terminationGracePeriodSeconds ?? DefaultTerminationGracePeriodSeconds;
}

function bumpGeneration(meta: ObjectMeta): void {
  if (meta.generation !== undefined && meta.generation > 0) meta.generation += 1;
}

/**
 * What a DELETE does to `object`. Throws a 409 Conflict when a precondition fails. `now` is
 * the apiserver's clock (milliseconds since the epoch, or a Date).
 */
export function planDeletion<T extends KubeObject>(info: DeletionInfo, object: T, options: DeleteOptions, now: number | Date): DeletionPlan<T> {
  checkPreconditions(info, object, options);
  const nowMs = typeof now === 'number' ? now : now.getTime();
  // Negative grace periods mean "as soon as possible", which Kubernetes turns into 1 second.
  const requested = options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0 ? 1 : options.gracePeriodSeconds;
  const meta: ObjectMeta = { ...object.metadata };
  const finalizers = finalizersFor(meta.finalizers ?? [], requestedPropagation(options));
  const finalizersChanged = finalizers.join('\u0000') !== (meta.finalizers ?? []).join('\u0000');
  const setFinalizers = () => {
    if (finalizers.length > 0) meta.finalizers = finalizers;
    else delete meta.finalizers;
  };
  const graceful = info.group === '' && info.kind === 'Pod';

  if (meta.deletionTimestamp !== undefined) {
    // Already being deleted: a grace period may only get shorter.
    const period = meta.deletionGracePeriodSeconds;
    setFinalizers();
    if (graceful && period !== undefined && period > 0 && requested !== undefined && requested < period) {
      const stored = Date.parse(meta.deletionTimestamp);
      const start = (Number.isNaN(stored) ? nowMs : stored) - period * 1000;
      meta.deletionTimestamp = formatTime(start + requested * 1000);
      meta.deletionGracePeriodSeconds = requested;
      if (requested === 0 && finalizers.length === 0) return { action: 'delete', object: { ...object, metadata: meta } };
      return { action: 'update', object: { ...object, metadata: meta } };
    }
    // A stored zero grace period with no finalizers left means an earlier delete half-finished.
    if ((period === undefined || period === 0) && finalizers.length === 0) return { action: 'delete', object: { ...object, metadata: meta } };
    return finalizersChanged ? { action: 'update', object: { ...object, metadata: meta } } : { action: 'pending', object };
  }

  const period = graceful ? podGracePeriod(object as unknown as Pod, requested) : 0;
  if (period === 0 && finalizers.length === 0) return { action: 'delete', object };
  meta.deletionTimestamp = formatTime(nowMs + period * 1000);
  meta.deletionGracePeriodSeconds = period;
  bumpGeneration(meta);
  setFinalizers();
  return { action: 'update', object: { ...object, metadata: meta } };
}

/**
 * Whether an update leaves an object that should now leave the store: marked for deletion,
 * its grace period over (0), and its last finalizer just removed.
 */
export function readyToDelete(object: KubeObject): boolean {
  const meta = object.metadata;
  return meta.deletionTimestamp !== undefined && (meta.finalizers ?? []).length === 0 && (meta.deletionGracePeriodSeconds ?? 0) === 0;
}
