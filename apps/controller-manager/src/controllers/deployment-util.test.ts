import type { ReplicaSet } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { deployment, replicaSet } from './fixtures.test-helpers';
import {
  MaxReplicasAnnotation,
  computeHash,
  equalIgnoreHash,
  getProportion,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  proportionalSizes,
  resolveFenceposts,
  setCondition,
  newCondition,
} from './deployment-util';

const rs = (name: string, replicas: number, available = replicas, maxReplicas?: number): ReplicaSet => {
  const r = replicaSet(name, replicas);
  r.status = { replicas, availableReplicas: available };
  if (maxReplicas !== undefined) r.metadata.annotations = { [MaxReplicasAnnotation]: String(maxReplicas) };
  return r;
};

describe('rolling update arithmetic', () => {
  it.each([
    // maxSurge, maxUnavailable, replicas → surge, unavailable
    ['25%', '25%', 10, 3, 2],
    ['25%', '25%', 1, 1, 0],
    ['25%', '25%', 3, 1, 0],
    [0, 0, 5, 0, 1],
    ['0%', '0%', 5, 0, 1],
    [2, 1, 5, 2, 1],
    ['50%', '50%', 5, 3, 2],
  ] as const)('maxSurge %s, maxUnavailable %s of %i → surge %i, unavailable %i', (s, u, n, surge, unavailable) => {
    expect(resolveFenceposts(s, u, n)).toEqual({ surge, unavailable });
  });

  it('maxUnavailable is capped by replicas and zero for Recreate', () => {
    expect(maxUnavailable(deployment('d', 1, 'i', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 5 } } }))).toBe(1);
    expect(maxUnavailable(deployment('d', 4, 'i', { strategy: { type: 'Recreate' } }))).toBe(0);
    expect(maxSurge(deployment('d', 4, 'i', { strategy: { type: 'Recreate' } }))).toBe(0);
  });

  it.each([
    // replicas, surge, old replicas, new replicas → new size
    [3, 1, 3, 0, 1],
    [3, 1, 3, 1, 1],
    [3, 1, 2, 1, 2],
    [10, 3, 10, 0, 3],
    [10, 3, 5, 5, 8],
    [3, 1, 0, 3, 3],
  ])('replicas %i, surge %i, old %i, new %i → new RS %i', (replicas, surge, old, current, want) => {
    const d = deployment('d', replicas, 'i', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: 0 } } });
    const newRS = rs('new', current);
    expect(newRSNewReplicas(d, [rs('old', old), newRS], newRS)).toBe(want);
  });

  it('scales in proportion in mid-rollout (10 → 15 with 3/7 split, surge 3 → 4)', () => {
    const d = deployment('d', 15, 'i', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 0 } } });
    const a = rs('a', 3, 3, 13);
    const b = rs('b', 10, 10, 13);
    const sizes = proportionalSizes(d, [a, b]);
    expect(sizes.get('a')! + sizes.get('b')!).toBe(18);
    expect(sizes.get('b')).toBeGreaterThan(sizes.get('a')!);
    expect(getProportion(a, d, 5, 0)).toBe(Math.round((3 * 18) / 13) - 3);
  });
});

describe('pod-template-hash', () => {
  it('is stable, changes with the template and with the collision count', () => {
    const t = deployment('d', 1).spec!.template;
    expect(computeHash(t)).toBe(computeHash(JSON.parse(JSON.stringify(t))));
    expect(computeHash(t)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(computeHash(deployment('d', 1, 'img:2').spec!.template)).not.toBe(computeHash(t));
    expect(computeHash(t, 1)).not.toBe(computeHash(t));
  });

  it('templates compare equal apart from the pod-template-hash label', () => {
    const t = deployment('d', 1).spec!.template;
    const withHash = { ...t, metadata: { labels: { ...t.metadata!.labels, 'pod-template-hash': 'abc' } } };
    expect(equalIgnoreHash(t, withHash)).toBe(true);
    // kubectl rollout undo sends `creationTimestamp: null`, which Go reads as no field.
    const fromKubectl = {
      metadata: { ...t.metadata, creationTimestamp: null as unknown as string },
      spec: { ...t.spec!, containers: t.spec!.containers.map((c) => ({ ...c, resources: {} })) },
    };
    expect(equalIgnoreHash(fromKubectl, withHash)).toBe(true);
    expect(computeHash(fromKubectl)).toBe(computeHash(t));
    expect(equalIgnoreHash(t, deployment('d', 1, 'img:2').spec!.template)).toBe(false);
  });
});

describe('conditions', () => {
  it('keeps times when status and reason repeat, and the transition time when only the reason changes', () => {
    const status = {};
    setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'm', 't1'));
    setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'm', 't2'));
    expect(status).toEqual({ conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: 'm', lastUpdateTime: 't1', lastTransitionTime: 't1' }] });
    setCondition(status, newCondition('Progressing', 'True', 'ReplicaSetUpdated', 'm2', 't3'));
    expect(status).toEqual({ conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'm2', lastUpdateTime: 't3', lastTransitionTime: 't1' }] });
  });
});
