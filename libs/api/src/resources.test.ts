import { describe, expect, it } from 'vitest';
import { insufficientResources, parseResourceList, podLimits, podNonZeroRequests, podRequests, toResourceList } from './resources';
import type { Container, Pod } from './types';

const c = (name: string, requests: Record<string, string>, extra: Partial<Container> = {}): Container => ({ name, image: 'i', resources: { requests }, ...extra });
const pod = (containers: Container[], initContainers: Container[] = [], overhead?: Record<string, string>): Pod => ({
  metadata: { name: 'p' },
  spec: { containers, initContainers, overhead },
});

describe('pod resources', () => {
  it('sums containers and adds overhead', () => {
    expect(toResourceList(podRequests(pod([c('a', { cpu: '100m', memory: '64Mi' }), c('b', { cpu: '250m' })], [], { cpu: '10m' })))).toEqual({
      cpu: '360m',
      memory: '64Mi',
    });
  });

  it('takes the largest init step when it exceeds the regular containers', () => {
    expect(toResourceList(podRequests(pod([c('a', { cpu: '100m' })], [c('init', { cpu: '1', memory: '1Gi' })])))).toEqual({ cpu: '1', memory: '1Gi' });
  });

  it('counts sidecars with the containers and with every later init step', () => {
    const sidecar = c('proxy', { cpu: '200m' }, { restartPolicy: 'Always' });
    const later = c('migrate', { cpu: '500m' });
    expect(toResourceList(podRequests(pod([c('a', { cpu: '100m' })], [sidecar, later])))).toEqual({ cpu: '700m' });
    expect(toResourceList(podRequests(pod([c('a', { cpu: '600m' })], [sidecar, later])))).toEqual({ cpu: '800m' });
  });

  it('counts limits and scoring defaults', () => {
    const p = pod([{ name: 'a', image: 'i', resources: { limits: { memory: '1Gi' } } }, { name: 'b', image: 'i' }]);
    expect(toResourceList(podLimits(p))).toEqual({ memory: '1Gi' });
    expect(toResourceList(podNonZeroRequests(p))).toEqual({ cpu: '200m', memory: '400Mi' });
  });

  it('names the resources a node lacks', () => {
    const requests = parseResourceList({ cpu: '2', memory: '1Gi', 'nvidia.com/gpu': '1', pods: '0' });
    expect(insufficientResources(requests, parseResourceList({ cpu: '4', memory: '512Mi' }))).toEqual(['memory', 'nvidia.com/gpu']);
  });
});
