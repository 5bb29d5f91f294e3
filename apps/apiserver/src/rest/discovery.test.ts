import { scheme } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { aggregatedDiscovery, wantsAggregatedDiscovery } from './discovery';

describe('wantsAggregatedDiscovery', () => {
  it('reads the offer kubectl 1.33 sends, and nothing less', () => {
    expect(wantsAggregatedDiscovery('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')).toBe(true);
    expect(wantsAggregatedDiscovery('application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList')).toBe(true);
    expect(wantsAggregatedDiscovery('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')).toBe(false);
    expect(wantsAggregatedDiscovery('application/json, */*')).toBe(false);
    expect(wantsAggregatedDiscovery(undefined)).toBe(false);
  });
});

describe('aggregatedDiscovery', () => {
  it('lists the core group with scopes, names and subresources nested under their resource', () => {
    const list = aggregatedDiscovery([{ name: '', versions: [scheme.apiResourceList({ group: '', version: 'v1' })!] }]);
    expect(list).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', items: [{ metadata: {}, versions: [{ version: 'v1', freshness: 'Current' }] }] });
    const resources = list.items[0]!.versions[0]!.resources;
    const pods = resources.find((r) => r.resource === 'pods')!;
    expect(pods).toMatchObject({ responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod', shortNames: ['po'], categories: ['all'] });
    expect(pods.subresources).toContainEqual({ subresource: 'status', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get', 'patch', 'update'] });
    // A subresource whose kind lives in another group says so.
    expect(pods.subresources!.find((s) => s.subresource === 'eviction')!.responseKind).toEqual({ group: 'policy', version: 'v1', kind: 'Eviction' });
    expect(resources.find((r) => r.resource === 'nodes')!.scope).toBe('Cluster');
    expect(resources.some((r) => r.resource.includes('/'))).toBe(false);
  });

  it('names each named group', () => {
    const apps = scheme.apiResourceList({ group: 'apps', version: 'v1' })!;
    const list = aggregatedDiscovery([{ name: 'apps', versions: [apps] }]);
    expect(list.items[0]!.metadata).toEqual({ name: 'apps' });
    const deployments = list.items[0]!.versions[0]!.resources.find((r) => r.resource === 'deployments')!;
    expect(deployments.subresources!.find((s) => s.subresource === 'scale')!.responseKind).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
  });
});
