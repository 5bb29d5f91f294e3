import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  controllerRef,
  deepCopy,
  deepEqual,
  formatMicroTime,
  formatTime,
  hasFinalizer,
  isOwnedBy,
  keepSpec,
  keepStatus,
  newControllerRef,
  nextGeneration,
  specChanged,
  withFinalizer,
  withOwnerReference,
  withoutFinalizer,
  withoutOwnerReference,
} from './objects';
import { scheme } from './scheme';
import type { Deployment, KubeObject } from './types';

const deployments = scheme.lookup('deployments')!;
const configmaps = scheme.lookup('configmaps')!;

function deployment(replicas: number, readyReplicas: number, labels: Record<string, string> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5', generation: 2, labels },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } },
    status: { readyReplicas },
  };
}

describe('deep copy and equality', () => {
  it('copies without sharing and compares structurally', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = deepCopy(value);
        expect(deepEqual(copy, value)).toBe(true);
      }),
    );
    const original = deployment(1, 0);
    const copy = deepCopy(original);
    copy.spec!.replicas = 3;
    expect(original.spec!.replicas).toBe(1);
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual({ a: [] }, {})).toBe(false);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
  });
});

describe('status subresource split', () => {
  it('a main-resource write keeps the stored status', () => {
    const current = deployment(1, 1);
    const updated = deployment(3, 0);
    const stored = keepStatus(deployments, updated, current);
    expect(stored.spec!.replicas).toBe(3);
    expect(stored.status).toEqual({ readyReplicas: 1 });
  });

  it('a status write keeps the stored spec and metadata but takes the new resourceVersion', () => {
    const current = deployment(1, 0, { team: 'a' });
    const updated = { ...deployment(5, 1, { team: 'b' }), metadata: { ...deployment(5, 1).metadata, resourceVersion: '6', labels: { team: 'b' } } };
    const stored = keepSpec(deployments, updated, current);
    expect(stored.spec!.replicas).toBe(1);
    expect(stored.status).toEqual({ readyReplicas: 1 });
    expect(stored.metadata.labels).toEqual({ team: 'a' });
    expect(stored.metadata.resourceVersion).toBe('6');
  });

  it('without a status subresource a write takes everything', () => {
    const current = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } };
    const updated = { ...current, data: { a: '2' } };
    expect(keepStatus(configmaps, updated, current)).toEqual(updated);
  });

  it('bumps generation on spec changes only', () => {
    const current = deployment(1, 0);
    expect(nextGeneration(deployments, current, undefined)).toBe(1);
    expect(nextGeneration(deployments, deployment(2, 0), current)).toBe(3);
    expect(nextGeneration(deployments, deployment(1, 1), current)).toBe(2);
    expect(nextGeneration(deployments, deployment(1, 0, { new: 'label' }), current)).toBe(2);
    expect(specChanged(deployments, deployment(2, 0), current)).toBe(true);
    expect(nextGeneration(configmaps, { metadata: {}, data: { a: 'x' } } as never, { metadata: {} } as never)).toBeUndefined();
  });
});

describe('owner references and finalizers', () => {
  it('builds and finds the controller reference', () => {
    const owner = deployment(1, 0);
    const ref = newControllerRef({ ...owner, apiVersion: 'apps/v1', kind: 'Deployment' });
    expect(ref).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true });
    const replicaSet: KubeObject = { metadata: { name: 'rs' } };
    const owned = withOwnerReference(replicaSet, ref);
    expect(controllerRef(owned)).toEqual(ref);
    expect(isOwnedBy(owned, 'u1')).toBe(true);
    expect(withOwnerReference(owned, { ...ref, controller: false }).metadata.ownerReferences).toHaveLength(1);
    expect(withoutOwnerReference(owned, 'u1').metadata.ownerReferences).toBeUndefined();
    expect(() => newControllerRef({ apiVersion: 'v1', kind: 'X', metadata: {} })).toThrow();
  });

  it('adds finalizers once and removes them', () => {
    const object: KubeObject = { metadata: { name: 'x' } };
    const once = withFinalizer(withFinalizer(object, 'keel.dev/cleanup'), 'keel.dev/cleanup');
    expect(once.metadata.finalizers).toEqual(['keel.dev/cleanup']);
    expect(hasFinalizer(once, 'keel.dev/cleanup')).toBe(true);
    expect(withoutFinalizer(once, 'keel.dev/cleanup').metadata.finalizers).toBeUndefined();
    expect(object.metadata).toEqual({ name: 'x' });
  });

  it('formats times as metav1.Time and MicroTime', () => {
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe('2024-01-02T03:04:05Z');
    expect(formatMicroTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe('2024-01-02T03:04:05.678000Z');
  });
});

describe('keys named __proto__', () => {
  it('are copied as fields, never as prototypes', () => {
    const body = JSON.parse('{"metadata":{"labels":{"__proto__":"x"}},"spec":{"__proto__":{"polluted":true}}}') as Deployment;
    const copy = deepCopy(body);
    expect(Object.keys(copy.metadata.labels!)).toEqual(['__proto__']);
    expect(deepEqual(copy, body)).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(copy.spec)).toBe(Object.prototype);
  });
});
