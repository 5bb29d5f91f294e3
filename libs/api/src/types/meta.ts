// meta/v1: the parts every object shares (TypeMeta, ObjectMeta, ListMeta, OwnerReference,
// LabelSelector) and the API's own envelope kinds (List, Table, WatchEvent, DeleteOptions,
// the discovery documents). Field names are Kubernetes' JSON names, so these interfaces
// describe exactly what travels over REST. Times are RFC 3339 strings, as on the wire.
// ManagedFieldsEntry belongs to the server-side apply code in ../patch, which owns its
// semantics; it is imported from there so the package has one such type.

import type { ManagedFieldsEntry } from '../patch';

/** An RFC 3339 timestamp in UTC with second precision, e.g. `2024-01-02T03:04:05Z`. */
export type Time = string;
/** An RFC 3339 timestamp with microseconds, used by Lease and Event series. */
export type MicroTime = string;

export interface TypeMeta {
  apiVersion?: string;
  kind?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  /** True on at most one reference: the controller that manages this object. */
  controller?: boolean;
  /** Foreground deletion of the owner waits for this object when true. */
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  /** Prefix the server completes with a random suffix when `name` is empty. */
  generateName?: string;
  namespace?: string;
  uid?: string;
  /** The store revision of the object's last write, as an opaque string. */
  resourceVersion?: string;
  /** Bumped by the server on every change to the desired state (spec). */
  generation?: number;
  creationTimestamp?: Time;
  deletionTimestamp?: Time;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  /** Deprecated upstream but still sent by old clients; kept so it round-trips. */
  selfLink?: string;
}

export interface ListMeta {
  resourceVersion?: string;
  /** Opaque token for the next page of a `limit`ed list. */
  continue?: string;
  /** An estimate of how many items remain after this page. */
  remainingItemCount?: number;
  selfLink?: string;
}

/** Any Kubernetes object: type information plus metadata. */
export interface KubeObject extends TypeMeta {
  metadata: ObjectMeta;
}

export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  values?: string[];
}

/** A label query: every `matchLabels` pair and every `matchExpressions` entry must hold (AND). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** A `*List` kind: `PodList`, `DeploymentList`, ... */
export interface List<T = KubeObject> extends TypeMeta {
  metadata: ListMeta;
  items: T[];
}

export type StatusCauseType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'UnexpectedServerResponse'
  | 'FieldManagerConflict';

/** A successful meta/v1 Status, as a DELETE answers when the object is gone at once. */
export interface SuccessStatus extends TypeMeta {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: ListMeta;
  status: 'Success';
  details?: { name?: string; group?: string; kind?: string; uid?: string };
}

// --- Table: what `kubectl get` asks for with `Accept: application/json;as=Table` ---

export interface TableColumnDefinition {
  name: string;
  /** An OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`. */
  type: string;
  /** An OpenAPI format, e.g. `name` for the NAME column. */
  format: string;
  description: string;
  /** 0 is always shown; higher numbers only with `-o wide`. */
  priority: number;
}

/** meta/v1 PartialObjectMetadata: the object part of a Table row. */
export interface PartialObjectMetadata extends TypeMeta {
  metadata: ObjectMeta;
}

export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object?: PartialObjectMetadata | KubeObject;
}

export interface Table extends TypeMeta {
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

// --- Watch ---

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One line of a `?watch=1` stream. An ERROR event carries a Status as its object. */
export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}

// --- DeleteOptions ---

export type DeletionPropagation = 'Orphan' | 'Background' | 'Foreground';

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface DeleteOptions extends TypeMeta {
  gracePeriodSeconds?: number;
  preconditions?: Preconditions;
  /** Deprecated in favour of propagationPolicy; `false` means Orphan. */
  orphanDependents?: boolean;
  propagationPolicy?: DeletionPropagation;
  dryRun?: string[];
}

// --- Discovery ---

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface ServerAddressByClientCIDR {
  clientCIDR: string;
  serverAddress: string;
}

export interface APIGroup extends TypeMeta {
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion?: GroupVersionForDiscovery;
  serverAddressByClientCIDRs?: ServerAddressByClientCIDR[];
}

export interface APIGroupList extends TypeMeta {
  groups: APIGroup[];
}

/** The answer to `GET /api`: the legacy core group's versions. */
export interface APIVersions extends TypeMeta {
  versions: string[];
  serverAddressByClientCIDRs: ServerAddressByClientCIDR[];
}

export interface APIResource {
  /** The plural resource name, or `resource/subresource` for a subresource. */
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

export interface APIResourceList extends TypeMeta {
  groupVersion: string;
  resources: APIResource[];
}

/** The answer to `GET /version`. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}
