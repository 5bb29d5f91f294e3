import { describe, expect, it } from 'vitest';
import { Scheme, formatGroupVersion, parseGroupVersion, parseStoreKey, qualifiedResource, scheme, storeKey, storePrefix } from './scheme';

describe('scheme', () => {
  it.each([
    ['po', 'pods'],
    ['pod', 'pods'],
    ['Pod', 'pods'],
    ['pods', 'pods'],
    ['svc', 'services'],
    ['deploy', 'deployments'],
    ['deployments.apps', 'deployments'],
    ['deploy.apps', 'deployments'],
    ['rs', 'replicasets'],
    ['ns', 'namespaces'],
    ['no', 'nodes'],
    ['cm', 'configmaps'],
    ['sa', 'serviceaccounts'],
    ['ds', 'daemonsets'],
    ['ev', 'events'],
    ['ep', 'endpoints'],
    ['endpoints', 'endpoints'],
    ['endpointslices', 'endpointslices'],
    ['jobs.batch', 'jobs'],
    ['pc', 'priorityclasses'],
    ['clusterrolebindings', 'clusterrolebindings'],
  ])('looks up %s as %s', (name, resource) => {
    expect(scheme.lookup(name)?.resource).toBe(resource);
  });

  it('answers undefined for unknown names and wrong groups', () => {
    expect(scheme.lookup('widgets')).toBeUndefined();
    expect(scheme.lookup('deployments.batch')).toBeUndefined();
  });

  it('finds resources by GVK and GVR', () => {
    const deploy = scheme.byGVK({ group: 'apps', version: 'v1', kind: 'Deployment' })!;
    expect(deploy).toMatchObject({ resource: 'deployments', namespaced: true, listKind: 'DeploymentList', singular: 'deployment' });
    expect(scheme.byGVR({ group: '', version: 'v1', resource: 'nodes' })?.kind).toBe('Node');
    expect(scheme.byGVR({ group: '', version: 'v1', resource: 'nodes' })?.namespaced).toBe(false);
    expect(scheme.byGVK({ group: '', version: 'v1', kind: 'Deployment' })).toBeUndefined();
    expect(scheme.forObject({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' })?.namespaced).toBe(false);
    expect(scheme.knowsKind({ group: 'autoscaling', version: 'v1', kind: 'Scale' })).toBe(true);
  });

  it('describes subresources, status fields and generation tracking', () => {
    const pods = scheme.lookup('pods')!;
    expect(pods.subresources.map((s) => s.name)).toEqual(['status', 'binding', 'log', 'exec', 'attach', 'portforward', 'eviction']);
    expect(pods.statusFields).toEqual(['status']);
    const scale = scheme.lookup('deployments')!.subresources.find((s) => s.name === 'scale')!;
    expect(scale).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(scheme.lookup('configmaps')!.statusFields).toEqual([]);
    expect(scheme.lookup('configmaps')!.tracksGeneration).toBe(false);
    expect(scheme.lookup('deployments')!.tracksGeneration).toBe(true);
    expect(scheme.inCategory('all').map((i) => i.resource).sort()).toEqual(
      ['daemonsets', 'deployments', 'jobs', 'pods', 'replicasets', 'services'],
    );
  });

  it('builds store keys and list prefixes', () => {
    const pods = scheme.lookup('pods')!;
    const nodes = scheme.lookup('nodes')!;
    expect(storeKey(pods, 'default', 'web')).toBe('/registry/pods/default/web');
    expect(storeKey(nodes, undefined, 'n1')).toBe('/registry/nodes/n1');
    expect(storeKey(scheme.lookup('deploy')!, 'ns', 'd')).toBe('/registry/deployments/ns/d');
    expect(() => storeKey(pods, undefined, 'web')).toThrow(/namespaced/);
    expect(storePrefix(pods, 'web')).toBe('/registry/pods/web/');
    expect(storePrefix(pods)).toBe('/registry/pods/');
    expect(parseStoreKey('/registry/pods/default/web')).toEqual({ resource: 'pods', namespace: 'default', name: 'web' });
    expect(parseStoreKey('/registry/nodes/n1')).toEqual({ resource: 'nodes', name: 'n1' });
    expect(parseStoreKey('/other/pods/a/b')).toBeUndefined();
  });

  it('parses and formats group versions', () => {
    expect(parseGroupVersion('v1')).toEqual({ group: '', version: 'v1' });
    expect(parseGroupVersion('apps/v1')).toEqual({ group: 'apps', version: 'v1' });
    expect(formatGroupVersion({ group: 'batch', version: 'v1' })).toBe('batch/v1');
    expect(qualifiedResource(scheme.lookup('deploy')!)).toBe('deployments.apps');
  });

  it('serves discovery documents', () => {
    expect(scheme.apiVersions()).toEqual({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    const groups = scheme.apiGroupList().groups.map((g) => g.name);
    expect(groups).toEqual(['apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'rbac.authorization.k8s.io', 'scheduling.k8s.io']);
    const core = scheme.apiResourceList({ group: '', version: 'v1' })!;
    expect(core.groupVersion).toBe('v1');
    const pods = core.resources.find((r) => r.name === 'pods')!;
    expect(pods).toMatchObject({ singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] });
    expect(pods.verbs).toEqual(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    expect(core.resources.find((r) => r.name === 'pods/status')).toMatchObject({ kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    const apps = scheme.apiResourceList({ group: 'apps', version: 'v1' })!;
    expect(apps.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(scheme.apiResourceList({ group: 'nope', version: 'v1' })).toBeUndefined();
  });

  it('refuses a plural registered in two groups, since store keys leave groups out', () => {
    const info = scheme.lookup('pods')!;
    expect(() => new Scheme([info, { ...info, group: 'other', kind: 'OtherPod' }])).toThrow(/two groups/);
  });
});
