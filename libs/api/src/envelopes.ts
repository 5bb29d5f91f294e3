// The API's envelopes around objects: a `*List` for list answers, the success Status a
// DELETE answers with when the object is gone at once, and watch events (including the
// BOOKMARK that carries only a resourceVersion, and the ERROR that carries a Status).

import type { Status } from './errors';
import { formatGroupVersion, type ResourceInfo } from './scheme';
import type { KubeObject, List, ListMeta, SuccessStatus, WatchEvent, WatchEventType } from './types/meta';

/** `{kind: 'PodList', apiVersion: 'v1', metadata, items}`, each item with its kind and apiVersion. */
export function toList<T extends KubeObject>(info: Pick<ResourceInfo, 'group' | 'version' | 'kind' | 'listKind'>, items: readonly T[], metadata: ListMeta = {}): List<T> {
  const apiVersion = formatGroupVersion(info);
  return {
    kind: info.listKind,
    apiVersion,
    metadata,
    items: items.map((item) => ({ ...item, apiVersion, kind: info.kind })),
  };
}

/** The Status a DELETE answers with when nothing remains to return. */
export function successStatus(details: { name?: string; group?: string; kind?: string; uid?: string }): SuccessStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

export function watchEvent<T extends KubeObject>(type: Exclude<WatchEventType, 'BOOKMARK' | 'ERROR'>, object: T): WatchEvent<T> {
  return { type, object };
}

/** A BOOKMARK: an object of the watched kind with only metadata.resourceVersion set. */
export function bookmarkEvent(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, resourceVersion: string): WatchEvent {
  return { type: 'BOOKMARK', object: { kind: info.kind, apiVersion: formatGroupVersion(info), metadata: { resourceVersion } } };
}

/** An ERROR event, e.g. the 410 Expired that ends a watch from a compacted revision. */
export function errorEvent(status: Status): WatchEvent<Status> {
  return { type: 'ERROR', object: status };
}
