import { describe, expect, it } from 'vitest';
import { applyBinding } from './binding';
import { ApiError } from './errors';
import { scheme } from './scheme';
import { prepareForFinalize, prepareForUpdate } from './strategy';
import type { Binding, Namespace, Pod } from './types';

const now = Date.UTC(2024, 0, 1, 0, 0, 0);
const pod = (edit: (p: Pod) => void = () => undefined): Pod => {
  const p: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Pending' } };
  edit(p);
  return p;
};
const binding = (node: string, extra: Partial<Binding['metadata']> = {}): Binding => ({
  apiVersion: 'v1',
  kind: 'Binding',
  metadata: { name: 'web', namespace: 'default', ...extra },
  target: { kind: 'Node', name: node },
});

function conflict(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).httpStatus).toBe(409);
    return (err as ApiError).message;
  }
  throw new Error('expected a conflict');
}

describe('applyBinding', () => {
  it('puts the pod on the node, marks it scheduled and copies annotations', () => {
    const bound = applyBinding(pod(), binding('node-1', { annotations: { 'keel.dev/score': '7' } }), now);
    expect(bound.spec!.nodeName).toBe('node-1');
    expect(bound.metadata.annotations).toEqual({ 'keel.dev/score': '7' });
    expect(bound.status!.conditions).toEqual([{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }]);
    expect(bound.status!.phase).toBe('Pending');
  });

  it('refuses a second binding, a deleting pod and a stale uid with 409s', () => {
    expect(conflict(() => applyBinding(pod((p) => (p.spec!.nodeName = 'node-1')), binding('node-2'), now))).toBe(
      'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "node-1"',
    );
    expect(conflict(() => applyBinding(pod((p) => (p.metadata.deletionTimestamp = 'x')), binding('node-2'), now))).toMatch(/is being deleted/);
    expect(conflict(() => applyBinding(pod(), binding('node-2', { uid: 'old' }), now))).toMatch(/UID in precondition: old/);
  });
});

describe('namespace finalizers', () => {
  const ns = (finalizers?: string[]): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', uid: 'u', resourceVersion: '3' }, spec: finalizers ? { finalizers } : {}, status: { phase: 'Terminating' } });

  it('a plain update cannot change them; finalize can', () => {
    const info = scheme.lookup('namespaces')!;
    expect(prepareForUpdate(info, ns([]), ns(['kubernetes'])).spec!.finalizers).toEqual(['kubernetes']);
    const finalized = prepareForFinalize({ ...ns([]), metadata: { name: 'n', resourceVersion: '4' } }, ns(['kubernetes']));
    expect(finalized.spec).toEqual({});
    expect(finalized.metadata).toEqual({ name: 'n', uid: 'u', resourceVersion: '4' });
    expect(finalized.status).toEqual({ phase: 'Terminating' });
  });
});
