import { describe, expect, it } from 'vitest';
import { editDistance, kindName, matchResource, nearestResource, resourcePath } from './discovery';
import { resourceInfo as r } from './discovery.test-helpers';

const all = [
  r('', 'v1', 'pods', 'Pod', ['po']),
  r('', 'v1', 'services', 'Service', ['svc']),
  r('', 'v1', 'nodes', 'Node', ['no'], false),
  r('', 'v1', 'events', 'Event', ['ev']),
  r('apps', 'v1', 'deployments', 'Deployment', ['deploy']),
  r('events.k8s.io', 'v1', 'events', 'Event', ['ev']),
];

describe('resource names', () => {
  it('matches plural, singular, short name and kind, core group first', () => {
    expect(matchResource('pods', all)?.kind).toBe('Pod');
    expect(matchResource('pod', all)?.kind).toBe('Pod');
    expect(matchResource('po', all)?.kind).toBe('Pod');
    expect(matchResource('Deployment', all)?.group).toBe('apps');
    expect(matchResource('deploy', all)?.resource).toBe('deployments');
    expect(matchResource('events', all)?.group).toBe('');
  });

  it('takes resource.group and resource.version.group', () => {
    expect(matchResource('events.events.k8s.io', all)?.group).toBe('events.k8s.io');
    expect(matchResource('deployments.v1.apps', all)?.group).toBe('apps');
    expect(matchResource('deployments.extensions', all)).toBeUndefined();
  });

  it('suggests the nearest name for a typo, and nothing for a different word', () => {
    expect(editDistance('pdos', 'pods')).toBe(1);
    expect(nearestResource('pdos', all)).toBe('pods');
    expect(nearestResource('deploymnets', all)).toBe('deployments');
    expect(nearestResource('sv', all)).toBe('services');
    expect(nearestResource('configmaps', all)).toBeUndefined();
  });

  it('builds paths and kubectl names', () => {
    expect(resourcePath(all[0]!, 'demo', 'web', 'log')).toBe('/api/v1/namespaces/demo/pods/web/log');
    expect(resourcePath(all[2]!, 'demo', 'n1')).toBe('/api/v1/nodes/n1');
    expect(resourcePath(all[4]!, '', undefined)).toBe('/apis/apps/v1/deployments');
    expect(kindName(all[4]!)).toBe('deployment.apps');
    expect(kindName(all[0]!)).toBe('pod');
  });
});
