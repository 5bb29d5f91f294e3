import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { planDeletion, readyToDelete, requestedPropagation } from './deletion';
import { bookmarkEvent, errorEvent, successStatus, toList, watchEvent } from './envelopes';
import { ApiErrors } from './errors';
import { applyScale, toScale } from './scale';
import { scheme } from './scheme';
import type { ConfigMap, Deployment, Pod } from './types';

const now = Date.UTC(2024, 0, 1, 0, 0, 0);
const pods = scheme.lookup('pods')!;
const configmaps = scheme.lookup('configmaps')!;
const deployments = scheme.lookup('deployments')!;

const pod = (edit: (p: Pod) => void = () => undefined): Pod => {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '10', generation: 1 },
    spec: { containers: [{ name: 'c', image: 'i' }], nodeName: 'node-1', terminationGracePeriodSeconds: 30 },
    status: { phase: 'Running' },
  };
  edit(p);
  return p;
};

describe('planDeletion', () => {
  it('gives a running pod its grace period', () => {
    const plan = planDeletion(pods, pod(), {}, now);
    expect(plan.action).toBe('update');
    expect(plan.object.metadata).toMatchObject({ deletionTimestamp: '2024-01-01T00:00:30Z', deletionGracePeriodSeconds: 30, generation: 2 });
  });

  it('deletes unscheduled or finished pods, and grace 0, at once', () => {
    expect(planDeletion(pods, pod((p) => delete p.spec!.nodeName), {}, now).action).toBe('delete');
    expect(planDeletion(pods, pod((p) => (p.status!.phase = 'Succeeded')), {}, now).action).toBe('delete');
    expect(planDeletion(pods, pod(), { gracePeriodSeconds: 0 }, now).action).toBe('delete');
  });

  it('only shortens a pending grace period; the agent finishes with grace 0', () => {
    const first = planDeletion(pods, pod(), {}, now).object;
    expect(planDeletion(pods, first, {}, now + 5000)).toEqual({ action: 'pending', object: first });
    expect(planDeletion(pods, first, { gracePeriodSeconds: 60 }, now).action).toBe('pending');
    const shorter = planDeletion(pods, first, { gracePeriodSeconds: 10 }, now);
    expect(shorter.action).toBe('update');
    expect(shorter.object.metadata).toMatchObject({ deletionTimestamp: '2024-01-01T00:00:10Z', deletionGracePeriodSeconds: 10 });
    expect(planDeletion(pods, first, { gracePeriodSeconds: 0 }, now).action).toBe('delete');
  });

  it('holds objects with finalizers and adds the garbage collector finalizer the policy asks for', () => {
    const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', finalizers: ['keel.dev/hold'] } };
    const held = planDeletion(configmaps, cm, {}, now);
    expect(held.action).toBe('update');
    expect(held.object.metadata).toMatchObject({ deletionTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: 0 });
    expect(planDeletion(configmaps, { ...cm, metadata: { name: 'c' } }, {}, now).action).toBe('delete');
    const d: Deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', generation: 3 } };
    const foreground = planDeletion(deployments, d, { propagationPolicy: 'Foreground' }, now);
    expect(foreground.action).toBe('update');
    expect(foreground.object.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(foreground.object.metadata.generation).toBe(4);
    expect(planDeletion(deployments, d, { orphanDependents: true }, now).object.metadata.finalizers).toEqual(['orphan']);
    expect(planDeletion(deployments, d, { propagationPolicy: 'Background' }, now).action).toBe('delete');
    expect(requestedPropagation({})).toBeUndefined();
  });

  it('refuses a stale precondition with a 409', () => {
    try {
      planDeletion(pods, pod(), { preconditions: { uid: 'other' } }, now);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).httpStatus).toBe(409);
      expect((err as ApiError).message).toBe(
        'Operation cannot be fulfilled on pods "web": the UID in the precondition (other) does not match the UID in record (u1). The object might have been deleted and then recreated',
      );
    }
    expect(() => planDeletion(pods, pod(), { preconditions: { resourceVersion: '9' } }, now)).toThrow(/ResourceVersion in the precondition \(9\)/);
  });

  it('knows when an update removed the last finalizer', () => {
    expect(readyToDelete({ metadata: { deletionTimestamp: 'x', deletionGracePeriodSeconds: 0 } })).toBe(true);
    expect(readyToDelete({ metadata: { deletionTimestamp: 'x', finalizers: ['a'] } })).toBe(false);
    expect(readyToDelete({ metadata: { deletionTimestamp: 'x', deletionGracePeriodSeconds: 30 } })).toBe(false);
    expect(readyToDelete({ metadata: {} })).toBe(false);
  });
});

describe('scale subresource', () => {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '4' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: {} },
    status: { replicas: 2 },
  };

  it('reads a Scale and writes its replicas back', () => {
    expect(toScale(d)).toEqual({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '4' },
      spec: { replicas: 2 },
      status: { replicas: 2, selector: 'app=web' },
    });
    const scaled = applyScale(d, { ...toScale(d), spec: { replicas: 5 } });
    expect(scaled.spec!.replicas).toBe(5);
    expect(scaled.spec!.selector).toEqual(d.spec!.selector);
    expect(d.spec!.replicas).toBe(2);
  });
});

describe('envelopes', () => {
  it('wraps lists, delete answers and watch events', () => {
    const list = toList(deployments, [{ metadata: { name: 'a' } }], { resourceVersion: '12' });
    expect(list).toEqual({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: '12' }, items: [{ metadata: { name: 'a' }, apiVersion: 'apps/v1', kind: 'Deployment' }] });
    expect(successStatus({ name: 'a', kind: 'pods', uid: 'u' })).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'a', kind: 'pods', uid: 'u' } });
    expect(watchEvent('ADDED', { metadata: { name: 'a' } })).toEqual({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    expect(bookmarkEvent(pods, '99')).toEqual({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '99' } } });
    const gone = errorEvent(ApiErrors.gone('too old resource version: 5 (10)').toStatus());
    expect(gone.object).toMatchObject({ code: 410, reason: 'Expired' });
  });
});
