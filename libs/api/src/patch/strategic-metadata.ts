// Per-kind patch metadata: for each field kubectl and server-side apply treat specially, how a
// strategic merge patch merges it (patchStrategy, patchMergeKey) and how server-side apply
// tracks it (listType, listMapKeys). These mirror the `patchStrategy`/`patchMergeKey` and
// `+listType`/`+listMapKey` markers on Kubernetes' Go types for the kinds Keel serves.
//
// Only the exceptions are written down. A field with no entry gets the defaults Kubernetes
// uses for schemaless objects and CRDs: objects merge key by key, lists are replaced whole
// (atomic). So a kind missing from the table still patches, just without merge keys.

import type { JsonValue } from './json';

export interface ListSchema {
  /** Strategic merge: `merge` merges by `mergeKey` (or as a set of primitives without one). */
  readonly strategy: 'merge' | 'replace';
  /** Strategic merge: the field that identifies an element (`name`, `containerPort`...). */
  readonly mergeKey?: string;
  /** Strategic merge: patchStrategy `retainKeys` on the elements (Pod volumes). */
  readonly retainKeys?: boolean;
  /** Server-side apply: how ownership of the list is tracked. */
  readonly type: 'atomic' | 'set' | 'map';
  /** Server-side apply: the fields that together identify an element of a `map` list. */
  readonly keys?: readonly string[];
  /**
   * Values the apiserver defaults into key fields (a port's `protocol: TCP`), so an applied
   * element that omits them still matches the stored, defaulted one.
   */
  readonly keyDefaults?: Readonly<Record<string, JsonValue>>;
  readonly items?: FieldSchema;
}

export interface FieldSchema {
  /** Struct fields that are not plain defaults. */
  readonly fields?: Readonly<Record<string, FieldSchema>>;
  /** Present when the field is a list. */
  readonly list?: ListSchema;
  /** Strategic merge: patchStrategy `retainKeys` on a struct (Deployment `spec.strategy`). */
  readonly retainKeys?: boolean;
  /** Server-side apply: the struct or map is owned as one value (`+structType=atomic`). */
  readonly atomic?: boolean;
}

/** The schema of a struct's field; undefined means "no metadata: use the defaults". */
export function fieldSchema(schema: FieldSchema | undefined, field: string): FieldSchema | undefined {
  const fields = schema?.fields;
  return fields && Object.prototype.hasOwnProperty.call(fields, field) ? fields[field] : undefined;
}

/** The schema of a list's elements. */
export function itemSchema(schema: FieldSchema | undefined): FieldSchema | undefined {
  return schema?.list?.items;
}

// Small constructors so the table reads like the Go struct tags it mirrors.
const struct = (fields: Record<string, FieldSchema>, extra: Omit<FieldSchema, 'fields'> = {}): FieldSchema => ({
  fields,
  ...extra,
});
/** patchStrategy merge + patchMergeKey, and listType map with the given keys. */
const keyedList = (
  mergeKey: string,
  items?: FieldSchema,
  opts: { keys?: readonly string[]; keyDefaults?: Record<string, JsonValue>; retainKeys?: boolean; ssaAtomic?: boolean } = {},
): FieldSchema => ({
  list: {
    strategy: 'merge',
    mergeKey,
    type: opts.ssaAtomic ? 'atomic' : 'map',
    keys: opts.keys ?? [mergeKey],
    ...(opts.keyDefaults ? { keyDefaults: opts.keyDefaults } : {}),
    ...(opts.retainKeys ? { retainKeys: true } : {}),
    ...(items ? { items } : {}),
  },
});
/** patchStrategy merge on primitives, and listType set. */
const primitiveSet: FieldSchema = { list: { strategy: 'merge', type: 'set' } };
/** No patch strategy but a listType map (server-side apply only). */
const ssaMapList = (keys: readonly string[]): FieldSchema => ({ list: { strategy: 'replace', type: 'map', keys } });
const conditions = keyedList('type');

export const objectMetaSchema: FieldSchema = struct({
  finalizers: primitiveSet,
  ownerReferences: keyedList('uid'),
});

/** metav1.LabelSelector is `+structType=atomic`: an applier owns the whole selector. */
const labelSelector: FieldSchema = { atomic: true };

const container: FieldSchema = struct({
  ports: keyedList('containerPort', undefined, { keys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' } }),
  env: keyedList('name'),
  volumeMounts: keyedList('mountPath'),
  volumeDevices: keyedList('devicePath'),
  resizePolicy: { list: { strategy: 'replace', type: 'atomic' } },
  resources: struct({ claims: ssaMapList(['name']) }),
});

export const podSpecSchema: FieldSchema = struct({
  volumes: keyedList('name', undefined, { retainKeys: true }),
  initContainers: keyedList('name', container),
  containers: keyedList('name', container),
  ephemeralContainers: keyedList('name', container),
  imagePullSecrets: keyedList('name'),
  hostAliases: keyedList('ip'),
  topologySpreadConstraints: keyedList('topologyKey', undefined, { keys: ['topologyKey', 'whenUnsatisfiable'] }),
  schedulingGates: keyedList('name'),
  resourceClaims: keyedList('name', undefined, { retainKeys: true }),
  // tolerations, readinessGates: no patch strategy in Kubernetes, so atomic (the default).
});

const podStatus: FieldSchema = struct({
  conditions,
  podIPs: keyedList('ip'),
  hostIPs: keyedList('ip'),
  resourceClaimStatuses: keyedList('name'),
});

const podTemplateSpec: FieldSchema = struct({ metadata: objectMetaSchema, spec: podSpecSchema });

const withMeta = (fields: Record<string, FieldSchema>): FieldSchema => struct({ metadata: objectMetaSchema, ...fields });
const workloadStatus: FieldSchema = struct({ conditions });

const table: Record<string, FieldSchema> = {
  'v1/Pod': withMeta({ spec: podSpecSchema, status: podStatus }),
  'v1/PodTemplate': withMeta({ template: podTemplateSpec }),
  'v1/ReplicationController': withMeta({ spec: struct({ template: podTemplateSpec }), status: workloadStatus }),
  'v1/Service': withMeta({
    spec: struct({
      ports: keyedList('port', undefined, { keys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } }),
      selector: { atomic: true },
    }),
    status: struct({ conditions }),
  }),
  'v1/Node': withMeta({
    // taints have no patch strategy: atomic. podCIDRs are a merge set.
    spec: struct({ podCIDRs: primitiveSet }),
    // Node addresses merge by type in strategic merge, but may repeat a type, so apply keeps them atomic.
    status: struct({ conditions, addresses: keyedList('type', undefined, { ssaAtomic: true }) }),
  }),
  'v1/Namespace': withMeta({ status: struct({ conditions }) }),
  'v1/ServiceAccount': withMeta({ secrets: keyedList('name') }),
  'v1/ConfigMap': withMeta({}),
  'v1/Secret': withMeta({}),
  'v1/Endpoints': withMeta({}),
  'v1/Event': withMeta({}),
  'apps/v1/Deployment': withMeta({
    spec: struct({ selector: labelSelector, template: podTemplateSpec, strategy: { retainKeys: true } }),
    status: workloadStatus,
  }),
  'apps/v1/ReplicaSet': withMeta({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: workloadStatus }),
  'apps/v1/DaemonSet': withMeta({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: workloadStatus }),
  'apps/v1/StatefulSet': withMeta({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: workloadStatus }),
  'batch/v1/Job': withMeta({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: workloadStatus }),
  'batch/v1/CronJob': withMeta({
    spec: struct({ jobTemplate: struct({ metadata: objectMetaSchema, spec: struct({ selector: labelSelector, template: podTemplateSpec }) }) }),
  }),
  'discovery.k8s.io/v1/EndpointSlice': withMeta({}),
  'coordination.k8s.io/v1/Lease': withMeta({}),
  'rbac.authorization.k8s.io/v1/Role': withMeta({}),
  'rbac.authorization.k8s.io/v1/ClusterRole': withMeta({}),
  'rbac.authorization.k8s.io/v1/RoleBinding': withMeta({ roleRef: { atomic: true } }),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': withMeta({ roleRef: { atomic: true } }),
  'scheduling.k8s.io/v1/PriorityClass': withMeta({}),
  'autoscaling/v1/Scale': withMeta({}),
};

/** Metadata for objects of an unknown kind: only the ObjectMeta rules, which every kind shares. */
const unknownKind: FieldSchema = withMeta({});

/** The patch metadata of a kind, e.g. `schemaFor('apps/v1', 'Deployment')`. */
export function schemaFor(apiVersion: string, kind: string): FieldSchema {
  const key = `${apiVersion}/${kind}`;
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key]! : unknownKind;
}

/** Whether the table knows the kind (an unknown one still gets ObjectMeta's rules). */
export function hasSchema(apiVersion: string, kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, `${apiVersion}/${kind}`);
}
