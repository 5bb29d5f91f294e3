import type { Pod } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { admit } from './admission';

const pod = (name: string, cpu?: string, memory?: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: name },
  spec: { containers: [{ name: 'c', resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } }] },
});

const allocatable = { cpu: '2', memory: '1Gi', pods: '3' };

describe('node admission', () => {
  it('admits what fits beside the admitted pods', () => {
    expect(admit(pod('a', '1'), [pod('b', '500m')], allocatable)).toBeUndefined();
    expect(admit(pod('a'), [pod('b', '2')], allocatable)).toBeUndefined();
  });

  it('refuses cpu, memory and pod count with Kubernetes reasons and messages', () => {
    expect(admit(pod('a', '1500m'), [pod('b', '1')], allocatable)).toEqual({
      reason: 'OutOfcpu',
      message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    });
    expect(admit(pod('a', undefined, '2Gi'), [], allocatable)).toEqual({
      reason: 'OutOfmemory',
      message: "Pod was rejected: Node didn't have enough resource: memory, requested: 2147483648, used: 0, capacity: 1073741824",
    });
    expect(admit(pod('a'), [pod('b'), pod('c'), pod('d')], allocatable)?.reason).toBe('OutOfpods');
  });
});
