import { describe, expect, it } from 'vitest';
import type { Node, Pod, Taint, Toleration } from '../types';
import { findUntoleratedTaint, nodeMatchesNodeSelector, podMatchesNode, toleratesTaint } from './nodes';

const node: Node = { metadata: { name: 'node-1', labels: { zone: 'a', disk: 'ssd', cores: '8' } } };

describe('node selector terms', () => {
  it.each<[string, Parameters<typeof nodeMatchesNodeSelector>[1], boolean]>([
    ['In', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] }, true],
    ['NotIn', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] }, false],
    ['Exists and DoesNotExist', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'Exists' }, { key: 'gpu', operator: 'DoesNotExist' }] }] }, true],
    ['Gt', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }] }, true],
    ['Lt on a non-number', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'Lt', values: ['4'] }] }] }, false],
    ['matchFields by name', { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }] }, true],
    ['terms are ORed', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z'] }] }, { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] }, true],
    ['an empty term matches nothing', { nodeSelectorTerms: [{}] }, false],
    ['no terms match nothing', { nodeSelectorTerms: [] }, false],
  ])('%s', (_name, selector, expected) => expect(nodeMatchesNodeSelector(node, selector)).toBe(expected));

  it('checks a pod nodeSelector and required affinity together', () => {
    const pod = (spec: Pod['spec']): Pod => ({ metadata: {}, spec });
    expect(podMatchesNode(pod({ containers: [], nodeSelector: { zone: 'a' } }), node)).toBe(true);
    expect(podMatchesNode(pod({ containers: [], nodeSelector: { zone: 'b' } }), node)).toBe(false);
    expect(
      podMatchesNode(
        pod({ containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['hdd'] }] }] } } } }),
        node,
      ),
    ).toBe(false);
    expect(podMatchesNode(pod({ containers: [] }), node)).toBe(true);
  });
});

describe('taints and tolerations', () => {
  const taint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  it.each<[string, Toleration, boolean]>([
    ['Equal with the value', { key: 'dedicated', operator: 'Equal', value: 'gpu' }, true],
    ['Equal by default', { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, true],
    ['another value', { key: 'dedicated', value: 'db' }, false],
    ['Exists', { key: 'dedicated', operator: 'Exists' }, true],
    ['Exists with no key tolerates everything', { operator: 'Exists' }, true],
    ['another effect', { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    ['another key', { key: 'other', operator: 'Exists' }, false],
  ])('%s', (_name, toleration, expected) => expect(toleratesTaint(toleration, taint)).toBe(expected));

  it('finds the first taint not tolerated among the effects asked about', () => {
    const taints: Taint[] = [taint, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, { key: 'soft', effect: 'PreferNoSchedule' }];
    expect(findUntoleratedTaint(taints, [])).toEqual(taint);
    expect(findUntoleratedTaint(taints, [{ key: 'dedicated', operator: 'Exists' }])?.key).toBe('node.kubernetes.io/unreachable');
    expect(findUntoleratedTaint(taints, [{ operator: 'Exists' }])).toBeUndefined();
    expect(findUntoleratedTaint(taints, [], ['NoExecute'])?.key).toBe('node.kubernetes.io/unreachable');
  });
});
