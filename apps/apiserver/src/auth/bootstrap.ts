// The bootstrap RBAC policy, created at startup when absent (an edited role is left alone,
// so an operator's changes survive a restart): cluster-admin for system:masters, discovery
// and self-review for everyone authenticated, view/edit/admin to bind in namespaces, and one
// role per component — kube-scheduler, kube-controller-manager, and nodes (system:nodes).
// The rule lists follow Kubernetes' bootstrap policy, cut to the resources Keel serves.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Subject } from '@keel/api';
import { Groups } from './user';

const RBAC = 'rbac.authorization.k8s.io';
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL = [...READ, ...WRITE];

const r = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});
const urls = (nonResourceURLs: string[], verbs = ['get']): PolicyRule => ({ nonResourceURLs, verbs });

const meta = (name: string) => ({
  name,
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
});

const clusterRole = (name: string, rules: PolicyRule[]): ClusterRole => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: meta(name), rules });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC, name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: RBAC, name });
const binding = (name: string, role: string, subjects: Subject[]): ClusterRoleBinding => ({
  apiVersion: `${RBAC}/v1`,
  kind: 'ClusterRoleBinding',
  metadata: meta(name),
  roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
  subjects,
});

// What a namespace reader sees (no Secrets: reading them would be reading credentials).
const viewRules: PolicyRule[] = [
  r([''], ['pods', 'pods/log', 'pods/status', 'services', 'services/status', 'endpoints', 'configmaps', 'serviceaccounts', 'events',
    'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas', 'limitranges', 'bindings'], READ),
  r([''], ['namespaces', 'namespaces/status'], READ),
  r(['apps'], ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status',
    'daemonsets', 'daemonsets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], READ),
  r(['batch'], ['jobs', 'jobs/status', 'cronjobs', 'cronjobs/status'], READ),
  r(['discovery.k8s.io'], ['endpointslices'], READ),
  r(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
  r(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
];

// A namespace writer: everything of view, writes to workloads and config, Secrets, no RBAC.
const editRules: PolicyRule[] = [
  ...viewRules,
  r([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'pods/eviction', 'configmaps', 'endpoints', 'persistentvolumeclaims',
    'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], WRITE),
  r([''], ['secrets'], READ),
  r([''], ['serviceaccounts/token'], ['create']),
  r([''], ['serviceaccounts'], ['impersonate']),
  r(['apps'], ['deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale', 'daemonsets', 'statefulsets', 'statefulsets/scale'], WRITE),
  r(['batch'], ['jobs', 'cronjobs'], WRITE),
  r(['discovery.k8s.io'], ['endpointslices'], WRITE),
  r(['policy'], ['poddisruptionbudgets'], WRITE),
  r(['coordination.k8s.io'], ['leases'], ALL),
  r(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
];

// A namespace owner: edit, plus granting roles inside the namespace.
const adminRules: PolicyRule[] = [
  ...editRules,
  r([RBAC], ['roles', 'rolebindings'], ALL),
  r(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
];

const schedulerRules: PolicyRule[] = [
  r(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
  r(['coordination.k8s.io'], ['leases'], ['create']),
  r(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['kube-scheduler']),
  r([''], ['nodes'], READ),
  r([''], ['namespaces'], ['list', 'watch']),
  r([''], ['pods'], [...READ, 'delete']),
  r([''], ['bindings', 'pods/binding'], ['create']),
  r([''], ['pods/status'], ['patch', 'update']),
  r([''], ['replicationcontrollers', 'services', 'persistentvolumeclaims', 'persistentvolumes'], ['list', 'watch']),
  r(['apps'], ['replicasets', 'statefulsets'], ['list', 'watch']),
  r(['policy'], ['poddisruptionbudgets'], ['list', 'watch']),
  r(['scheduling.k8s.io'], ['priorityclasses'], READ),
  r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
  r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
];

// Keel runs every controller in one process under one identity, so this is the union of
// Kubernetes' per-controller roles: the namespace controller and the garbage collector need
// to read and delete anything; the workload, endpoint, ServiceAccount and node controllers
// create what they own. It cannot create RBAC objects, exec into pods or impersonate.
const controllerManagerRules: PolicyRule[] = [
  r(['*'], ['*'], ['get', 'list', 'watch', 'patch', 'update', 'delete', 'deletecollection']),
  r(['', 'events.k8s.io'], ['events'], ['create']),
  r([''], ['pods', 'endpoints', 'serviceaccounts', 'secrets', 'configmaps', 'pods/eviction', 'pods/binding', 'serviceaccounts/token'], ['create']),
  r(['apps'], ['replicasets', 'controllerrevisions'], ['create']),
  r(['batch'], ['jobs'], ['create']),
  r(['discovery.k8s.io'], ['endpointslices'], ['create']),
  r(['coordination.k8s.io'], ['leases'], ['create']),
  r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
  r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
];

// What a node's agent needs. Kubernetes narrows this further with its Node authorizer (a
// node reads only the pods, secrets and configmaps of its own pods); Keel has none yet.
const nodeRules: PolicyRule[] = [
  r([''], ['nodes'], ['create', 'get', 'list', 'watch', 'patch', 'update']),
  r([''], ['nodes/status'], ['patch', 'update']),
  r([''], ['pods'], [...READ, 'create', 'delete']),
  r([''], ['pods/status'], ['patch', 'update']),
  r([''], ['pods/eviction'], ['create']),
  r([''], ['services', 'endpoints'], READ),
  r([''], ['configmaps', 'secrets', 'persistentvolumeclaims', 'persistentvolumes'], ['get', 'list', 'watch']),
  r(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
  r(['coordination.k8s.io'], ['leases'], ['create', 'delete', 'get', 'patch', 'update']),
  r(['discovery.k8s.io'], ['endpointslices'], READ),
  r([''], ['serviceaccounts/token'], ['create']),
  r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
  r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
];

const HEALTH_URLS = ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/version', '/version/'];

export const bootstrapClusterRoles: ClusterRole[] = [
  clusterRole('cluster-admin', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
  clusterRole('system:discovery', [urls(['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', ...HEALTH_URLS])]),
  clusterRole('system:public-info-viewer', [urls(HEALTH_URLS)]),
  clusterRole('system:basic-user', [
    r(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
    r(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
  ]),
  clusterRole('view', viewRules),
  clusterRole('edit', editRules),
  clusterRole('admin', adminRules),
  clusterRole('system:kube-scheduler', schedulerRules),
  clusterRole('system:kube-controller-manager', controllerManagerRules),
  clusterRole('system:node', nodeRules),
];

export const bootstrapClusterRoleBindings: ClusterRoleBinding[] = [
  binding('cluster-admin', 'cluster-admin', [group(Groups.masters)]),
  binding('system:discovery', 'system:discovery', [group(Groups.authenticated)]),
  binding('system:public-info-viewer', 'system:public-info-viewer', [group(Groups.authenticated), group(Groups.unauthenticated)]),
  binding('system:basic-user', 'system:basic-user', [group(Groups.authenticated)]),
  binding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
  binding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
  binding('system:node', 'system:node', [group(Groups.nodes)]),
];
