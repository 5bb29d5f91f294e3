// Events as components record them: a core/v1 Event about an object, named as Kubernetes'
// recorder names them (`<object name>.<time in hex nanoseconds>`), and the repeat of an event
// folded into the existing one (count + 1, lastTimestamp moved) instead of a new object.

import { formatMicroTime, formatTime } from './objects';
import type { Event, ObjectReference } from './types/core';
import type { KubeObject } from './types/meta';

/** A reference to `object` for involvedObject, ownerless and exact (uid and resourceVersion). */
export function objectReference(object: KubeObject, fieldPath?: string): ObjectReference {
  const ref: ObjectReference = {
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    uid: object.metadata.uid,
    apiVersion: object.apiVersion,
    resourceVersion: object.metadata.resourceVersion,
    fieldPath,
  };
  for (const key of Object.keys(ref) as (keyof ObjectReference)[]) if (ref[key] === undefined) delete ref[key];
  return ref;
}

export interface EventSourceInfo {
  /** The reporting component: `default-scheduler`, `kubelet`, `deployment-controller`. */
  component: string;
  /** The node, for agents. */
  host?: string;
}

/**
 * A new Event about `involved` at `now` (ms). Its namespace is the object's (or `default`
 * for cluster-scoped objects, as Kubernetes records node events).
 */
export function newEvent(
  involved: ObjectReference,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  source: EventSourceInfo,
  now: number,
): Event {
  // Hex nanoseconds keep names unique per object and sortable, as the Go recorder's are.
  const nanos = BigInt(Math.trunc(now)) * 1_000_000n;
  const eventSource = source.host ? { component: source.component, host: source.host } : { component: source.component };
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${involved.name ?? ''}.${nanos.toString(16)}`, namespace: involved.namespace || 'default' },
    involvedObject: involved,
    reason,
    message,
    source: eventSource,
    firstTimestamp: formatTime(now),
    lastTimestamp: formatTime(now),
    count: 1,
    type,
    eventTime: null,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
  };
}

/** Whether `candidate` repeats `existing`: same object, type, reason, message and source. */
export function isSameEvent(existing: Event, candidate: Event): boolean {
  const a = existing.involvedObject ?? {};
  const b = candidate.involvedObject ?? {};
  return (
    a.uid === b.uid &&
    a.kind === b.kind &&
    a.name === b.name &&
    a.namespace === b.namespace &&
    a.fieldPath === b.fieldPath &&
    existing.type === candidate.type &&
    existing.reason === candidate.reason &&
    existing.message === candidate.message &&
    existing.source?.component === candidate.source?.component &&
    existing.source?.host === candidate.source?.host
  );
}

/** The existing event seen once more at `now`: count + 1 and lastTimestamp moved. */
export function repeatEvent(existing: Event, now: number): Event {
  return {
    ...existing,
    count: (existing.count ?? 1) + 1,
    lastTimestamp: formatTime(now),
    ...(existing.series ? { series: { count: (existing.series.count ?? 1) + 1, lastObservedTime: formatMicroTime(now) } } : {}),
  };
}
