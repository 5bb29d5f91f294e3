// The scheme: one row per resource Keel serves, saying what Kubernetes' discovery says about
// it (group, version, kind, plural and singular names, short names, scope, verbs,
// subresources, categories) and what the apiserver needs besides (which top-level fields are
// status, whether generation is tracked, the store key). Lookups go by GVK, by GVR, or by
// any name a user may type (`po`, `pods`, `pod`, `Pod`, `deployments.apps`).
//
// Store keys: `/registry/{resource}/{namespace}/{name}` for namespaced resources and
// `/registry/{resource}/{name}` for cluster-scoped ones, with the bare plural as {resource}.
// Kubernetes itself uses the bare plural for most resources too; we drop its historical
// exceptions (`services/specs`, `minions`), because no etcd shared with a real cluster is
// a goal. Plurals are unique across our groups (the Scheme constructor checks), so the
// group need not be part of the key.

import type { APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions } from './types/meta';

export interface GroupVersion {
  /** `''` for the legacy core group. */
  group: string;
  version: string;
}

export interface GroupVersionKind extends GroupVersion {
  kind: string;
}

export interface GroupVersionResource extends GroupVersion {
  resource: string;
}

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface SubresourceInfo {
  /** `status`, `scale`, `binding`, `log`, `exec`, `eviction`, ... */
  name: string;
  /** The kind a request to the subresource reads and writes. */
  group: string;
  version: string;
  kind: string;
  verbs: readonly string[];
}

export interface ResourceInfo extends GroupVersionResource {
  kind: string;
  listKind: string;
  singular: string;
  shortNames: readonly string[];
  namespaced: boolean;
  verbs: readonly Verb[];
  subresources: readonly SubresourceInfo[];
  categories: readonly string[];
  /**
   * Top-level fields written only through the `status` subresource (empty when the resource
   * has none, and then a plain update may write everything).
   */
  statusFields: readonly string[];
  /** Whether metadata.generation starts at 1 and is bumped on every spec change. */
  tracksGeneration: boolean;
}

const allVerbs: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const statusVerbs = ['get', 'patch', 'update'] as const;

function sub(name: string, kind: string, verbs: readonly string[], gv: GroupVersion): SubresourceInfo {
  return { name, group: gv.group, version: gv.version, kind, verbs };
}

interface Row {
  group: string;
  version: string;
  kind: string;
  resource: string;
  shortNames?: string[];
  namespaced: boolean;
  verbs?: readonly Verb[];
  /** Subresources other than status. */
  extra?: (gv: GroupVersion) => SubresourceInfo[];
  status?: boolean;
  categories?: string[];
  tracksGeneration?: boolean;
}

const core = { group: '', version: 'v1' };
const apps = { group: 'apps', version: 'v1' };
const autoscaling = { group: 'autoscaling', version: 'v1' };

const rows: Row[] = [
  // core/v1
  { ...core, kind: 'Namespace', resource: 'namespaces', shortNames: ['ns'], namespaced: false, status: true,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    extra: () => [sub('finalize', 'Namespace', ['update'], core)] },
  // Pods track generation as Kubernetes 1.33 does, so agents can report status.observedGeneration.
  { ...core, kind: 'Pod', resource: 'pods', shortNames: ['po'], namespaced: true, status: true, categories: ['all'],
    tracksGeneration: true,
    extra: () => [
      sub('binding', 'Binding', ['create'], core),
      sub('log', 'Pod', ['get'], core),
      sub('exec', 'PodExecOptions', ['create', 'get'], core),
      sub('attach', 'PodAttachOptions', ['create', 'get'], core),
      sub('portforward', 'PodPortForwardOptions', ['create', 'get'], core),
      sub('eviction', 'Eviction', ['create'], { group: 'policy', version: 'v1' }),
    ] },
  { ...core, kind: 'Binding', resource: 'bindings', namespaced: true, verbs: ['create'] },
  { ...core, kind: 'Node', resource: 'nodes', shortNames: ['no'], namespaced: false, status: true },
  { ...core, kind: 'Service', resource: 'services', shortNames: ['svc'], namespaced: true, status: true,
    categories: ['all'] },
  { ...core, kind: 'Endpoints', resource: 'endpoints', shortNames: ['ep'], namespaced: true },
  { ...core, kind: 'ConfigMap', resource: 'configmaps', shortNames: ['cm'], namespaced: true },
  { ...core, kind: 'Secret', resource: 'secrets', namespaced: true },
  { ...core, kind: 'ServiceAccount', resource: 'serviceaccounts', shortNames: ['sa'], namespaced: true,
    extra: () => [sub('token', 'TokenRequest', ['create'], { group: 'authentication.k8s.io', version: 'v1' })] },
  { ...core, kind: 'Event', resource: 'events', shortNames: ['ev'], namespaced: true },
  // apps/v1
  { ...apps, kind: 'Deployment', resource: 'deployments', shortNames: ['deploy'], namespaced: true, status: true,
    categories: ['all'], tracksGeneration: true, extra: () => [sub('scale', 'Scale', statusVerbs, autoscaling)] },
  { ...apps, kind: 'ReplicaSet', resource: 'replicasets', shortNames: ['rs'], namespaced: true, status: true,
    categories: ['all'], tracksGeneration: true, extra: () => [sub('scale', 'Scale', statusVerbs, autoscaling)] },
  { ...apps, kind: 'DaemonSet', resource: 'daemonsets', shortNames: ['ds'], namespaced: true, status: true,
    categories: ['all'], tracksGeneration: true },
  { ...apps, kind: 'ControllerRevision', resource: 'controllerrevisions', namespaced: true },
  // batch/v1
  { group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs', namespaced: true, status: true,
    categories: ['all'], tracksGeneration: true },
  // discovery.k8s.io/v1
  { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true },
  // coordination.k8s.io/v1
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true },
  // rbac.authorization.k8s.io/v1
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', resource: 'roles', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings',
    namespaced: false },
  // scheduling.k8s.io/v1
  { group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass', resource: 'priorityclasses', shortNames: ['pc'],
    namespaced: false },
];

function toInfo(row: Row): ResourceInfo {
  const gv = { group: row.group, version: row.version };
  const subresources = [
    ...(row.status ? [sub('status', row.kind, statusVerbs, gv)] : []),
    ...(row.extra?.(gv) ?? []),
  ];
  return {
    group: row.group,
    version: row.version,
    resource: row.resource,
    kind: row.kind,
    listKind: `${row.kind}List`,
    singular: row.kind.toLowerCase(),
    shortNames: row.shortNames ?? [],
    namespaced: row.namespaced,
    verbs: row.verbs ?? allVerbs,
    subresources,
    categories: row.categories ?? [],
    statusFields: row.status ? ['status'] : [],
    tracksGeneration: row.tracksGeneration ?? false,
  };
}

/** `apps/v1` → {group: 'apps', version: 'v1'}; `v1` → the core group. */
export function parseGroupVersion(apiVersion: string): GroupVersion {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The `apiVersion` string of a group version: `v1`, `apps/v1`. */
export function formatGroupVersion(gv: GroupVersion): string {
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}

/** The resource's name qualified by its group, as errors print it: `pods`, `deployments.apps`. */
export function qualifiedResource(info: Pick<ResourceInfo, 'group' | 'resource'>): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

export class Scheme {
  private readonly byGvk = new Map<string, ResourceInfo>();
  private readonly byGvr = new Map<string, ResourceInfo>();
  private readonly byAnyName = new Map<string, ResourceInfo[]>();
  /** Kinds that are only ever a subresource's body (Scale, Binding is also a resource). */
  private readonly subresourceKinds = new Set<string>();

  constructor(readonly resources: readonly ResourceInfo[]) {
    for (const info of resources) {
      const gvk = `${info.group}/${info.version}/${info.kind}`;
      const gvr = `${info.group}/${info.version}/${info.resource}`;
      if (this.byGvk.has(gvk)) throw new Error(`scheme: kind ${gvk} registered twice`);
      if (resources.some((other) => other !== info && other.resource === info.resource)) {
        // Store keys leave the group out, so a shared plural would share a key space.
        throw new Error(`scheme: resource ${info.resource} registered in two groups`);
      }
      this.byGvk.set(gvk, info);
      this.byGvr.set(gvr, info);
      for (const name of [info.resource, info.singular, ...info.shortNames, info.kind.toLowerCase()]) {
        const list = this.byAnyName.get(name) ?? [];
        if (!list.includes(info)) list.push(info);
        this.byAnyName.set(name, list);
      }
      for (const s of info.subresources) this.subresourceKinds.add(`${s.group}/${s.version}/${s.kind}`);
    }
  }

  byGVK(gvk: GroupVersionKind): ResourceInfo | undefined {
    return this.byGvk.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
  }

  byGVR(gvr: GroupVersionResource): ResourceInfo | undefined {
    return this.byGvr.get(`${gvr.group}/${gvr.version}/${gvr.resource}`);
  }

  /** The resource an object's `apiVersion` and `kind` name. */
  forObject(object: { apiVersion?: string; kind?: string }): ResourceInfo | undefined {
    if (!object.apiVersion || !object.kind) return undefined;
    return this.byGVK({ ...parseGroupVersion(object.apiVersion), kind: object.kind });
  }

  /**
   * A resource by any name a user may type: plural, singular, short name or kind, any case,
   * optionally group-qualified (`deployments.apps`, `deploy.apps`). Answers undefined when the
   * name is unknown or, unqualified, names resources in two groups.
   */
  lookup(name: string): ResourceInfo | undefined {
    const lower = name.toLowerCase();
    const direct = this.byAnyName.get(lower);
    if (direct?.length === 1) return direct[0];
    const dot = lower.indexOf('.');
    if (dot < 0) return undefined;
    const [base, group] = [lower.slice(0, dot), lower.slice(dot + 1)];
    return this.byAnyName.get(base)?.find((info) => info.group === group);
  }

  /** Resources in a category (`all` for `kubectl get all`). */
  inCategory(category: string): ResourceInfo[] {
    return this.resources.filter((info) => info.categories.includes(category));
  }

  /** Whether a kind is known at all, as a resource or as a subresource's body. */
  knowsKind(gvk: GroupVersionKind): boolean {
    return this.byGVK(gvk) !== undefined || this.subresourceKinds.has(`${gvk.group}/${gvk.version}/${gvk.kind}`);
  }

  /** Every group version served, core first, then groups by name. */
  groupVersions(): GroupVersion[] {
    const seen = new Map<string, GroupVersion>();
    for (const info of this.resources) seen.set(formatGroupVersion(info), { group: info.group, version: info.version });
    return [...seen.values()].sort((a, b) => (a.group === b.group ? 0 : a.group === '' ? -1 : b.group === '' ? 1 : a.group < b.group ? -1 : 1));
  }

  /** `GET /api`. */
  apiVersions(): APIVersions {
    const versions = this.groupVersions().filter((gv) => gv.group === '').map((gv) => gv.version);
    return { kind: 'APIVersions', versions, serverAddressByClientCIDRs: [] };
  }

  /** `GET /apis`: every named group (not the core group). */
  apiGroupList(): APIGroupList {
    const groups = new Map<string, APIGroup>();
    for (const gv of this.groupVersions()) {
      if (gv.group === '') continue;
      const entry = { groupVersion: formatGroupVersion(gv), version: gv.version };
      const group = groups.get(gv.group);
      if (group) group.versions.push(entry);
      else groups.set(gv.group, { name: gv.group, versions: [entry], preferredVersion: entry });
    }
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups.values()] };
  }

  /** `GET /api/v1` or `GET /apis/{group}/{version}`; undefined for an unknown group version. */
  apiResourceList(gv: GroupVersion): APIResourceList | undefined {
    const infos = this.resources.filter((info) => info.group === gv.group && info.version === gv.version);
    if (infos.length === 0) return undefined;
    const resources: APIResource[] = [];
    for (const info of infos) {
      const resource: APIResource = {
        name: info.resource,
        singularName: info.singular,
        namespaced: info.namespaced,
        kind: info.kind,
        verbs: [...info.verbs],
      };
      if (info.shortNames.length > 0) resource.shortNames = [...info.shortNames];
      if (info.categories.length > 0) resource.categories = [...info.categories];
      resources.push(resource);
      for (const s of info.subresources) {
        const subresource: APIResource = {
          name: `${info.resource}/${s.name}`,
          singularName: '',
          namespaced: info.namespaced,
          kind: s.kind,
          verbs: [...s.verbs],
        };
        if (s.group !== info.group || s.version !== info.version) {
          subresource.group = s.group;
          subresource.version = s.version;
        }
        resources.push(subresource);
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: formatGroupVersion(gv), resources };
  }
}

/** The scheme of every resource Keel serves. */
export const scheme = new Scheme(rows.map(toInfo));

/** `/registry/{resource}/{namespace}/{name}`, or `/registry/{resource}/{name}` when cluster-scoped. */
export function storeKey(info: Pick<ResourceInfo, 'resource' | 'namespaced'>, namespace: string | undefined, name: string): string {
  if (info.namespaced) {
    if (!namespace) throw new Error(`storeKey: ${info.resource} is namespaced but no namespace was given`);
    return `/registry/${info.resource}/${namespace}/${name}`;
  }
  return `/registry/${info.resource}/${name}`;
}

/**
 * The key prefix of a list: every object of the resource, or of one namespace. It ends in a
 * slash, so the namespace `web` does not also list `web2`.
 */
export function storePrefix(info: Pick<ResourceInfo, 'resource' | 'namespaced'>, namespace?: string): string {
  return info.namespaced && namespace ? `/registry/${info.resource}/${namespace}/` : `/registry/${info.resource}/`;
}

/** Splits a store key back into its parts; undefined for a key outside `/registry/`. */
export function parseStoreKey(key: string): { resource: string; namespace?: string; name: string } | undefined {
  const parts = key.split('/');
  if (parts[0] !== '' || parts[1] !== 'registry') return undefined;
  if (parts.length === 4 && parts[2] && parts[3]) return { resource: parts[2], name: parts[3] };
  if (parts.length === 5 && parts[2] && parts[3] && parts[4]) return { resource: parts[2], namespace: parts[3], name: parts[4] };
  return undefined;
}
