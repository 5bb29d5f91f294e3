// Score plugins: raw scores and normalization over a few nodes, as the framework runs them.
import { describe, expect, it } from 'vitest';
import type { Pod } from '@keel/api';
import { CycleState, type PreScorePlugin, type ScorePlugin } from '../framework/interfaces';
import type { NodeInfo } from '../framework/node-info';
import { newPodInfo } from '../framework/pod-info';
import { Snapshot } from '../framework/snapshot';
import { makeNode, makePod, nodeInfoWith } from '../testing/builders';
import { newImageLocality } from './image-locality';
import { newInterPodAffinity } from './inter-pod-affinity';
import { newNodeAffinity } from './node-affinity';
import { newNodeResourcesBalancedAllocation } from './node-resources-balanced-allocation';
import { newNodeResourcesLeastAllocated } from './node-resources-least-allocated';
import { newPodTopologySpread } from './pod-topology-spread';
import { newTaintToleration } from './taint-toleration';

function scores(plugin: ScorePlugin & Partial<PreScorePlugin>, pod: Pod, nodes: NodeInfo[]): number[] {
  const info = newPodInfo(pod);
  const state = new CycleState();
  if (plugin.preScore && plugin.preScore(state, info, nodes, new Snapshot(nodes)).code === 'Skip') return nodes.map(() => 0);
  const out = nodes.map((n) => plugin.score(state, info, n));
  plugin.normalizeScores?.(state, info, out);
  return out;
}

describe('score plugins', () => {
  const cases: { name: string; plugin: () => ScorePlugin; pod: Pod; nodes: () => NodeInfo[]; want: number[] }[] = [
    {
      name: 'LeastAllocated prefers the emptier node',
      plugin: () => newNodeResourcesLeastAllocated(),
      pod: makePod('p', { cpu: '1', memory: '1Gi' }),
      nodes: () => [nodeInfoWith(makeNode('a', { cpu: '4', memory: '4Gi' })), nodeInfoWith(makeNode('b', { cpu: '4', memory: '4Gi' }), [makePod('x', { cpu: '2', memory: '2Gi' })])],
      // a: (3/4, 3/4) → 75; b: (1/4, 1/4) → 25
      want: [75, 25],
    },
    {
      name: 'LeastAllocated counts pods without requests at 100m/200Mi',
      plugin: () => newNodeResourcesLeastAllocated(),
      pod: makePod('p'),
      nodes: () => [nodeInfoWith(makeNode('a', { cpu: '1', memory: '1000Mi' }))],
      // cpu (1000-100)/1000 = 90, memory (1000-200)/1000 = 80
      want: [85],
    },
    {
      name: 'BalancedAllocation prefers equal fractions',
      plugin: () => newNodeResourcesBalancedAllocation(),
      pod: makePod('p', { cpu: '1', memory: '1Gi' }),
      nodes: () => [nodeInfoWith(makeNode('a', { cpu: '4', memory: '4Gi' })), nodeInfoWith(makeNode('b', { cpu: '2', memory: '8Gi' }))],
      // a: 0.25/0.25 → 100; b: 0.5/0.125 → std 0.1875 → 81
      want: [100, 81],
    },
    {
      name: 'TaintToleration ranks untolerated PreferNoSchedule taints lower',
      plugin: () => newTaintToleration(),
      pod: makePod('p', { tolerations: [{ key: 'ok', operator: 'Exists', effect: 'PreferNoSchedule' }] }),
      nodes: () => [
        nodeInfoWith(makeNode('a')),
        nodeInfoWith(makeNode('b', { taints: [{ key: 'bad', effect: 'PreferNoSchedule' }] })),
        nodeInfoWith(makeNode('c', { taints: [{ key: 'ok', effect: 'PreferNoSchedule' }] })),
      ],
      want: [100, 0, 100],
    },
    {
      name: 'NodeAffinity sums preferred weights',
      plugin: () => newNodeAffinity(),
      pod: makePod('p', {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
              { weight: 30, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } },
            ],
          },
        },
      }),
      nodes: () => [nodeInfoWith(makeNode('a', { labels: { zone: 'a' } })), nodeInfoWith(makeNode('b', { labels: { zone: 'a', ssd: '' } })), nodeInfoWith(makeNode('c'))],
      want: [25, 100, 0],
    },
    {
      name: 'InterPodAffinity preferred affinity pulls toward matching pods',
      plugin: () => newInterPodAffinity(),
      pod: makePod('p', {
        affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone' } }] } },
      }),
      nodes: () => [
        nodeInfoWith(makeNode('a', { labels: { zone: 'z1' } })),
        nodeInfoWith(makeNode('b', { labels: { zone: 'z2' } }), [makePod('db', { labels: { app: 'db' } })]),
      ],
      want: [0, 100],
    },
    {
      name: 'PodTopologySpread ScheduleAnyway prefers the emptier zone',
      plugin: () => newPodTopologySpread(),
      pod: makePod('p', {
        labels: { app: 'web' },
        spread: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
      }),
      nodes: () => [
        nodeInfoWith(makeNode('a', { labels: { zone: 'z1' } }), [makePod('w1', { labels: { app: 'web' } }), makePod('w2', { labels: { app: 'web' } })]),
        nodeInfoWith(makeNode('b', { labels: { zone: 'z2' } })),
      ],
      want: [0, 100],
    },
    {
      name: 'ImageLocality favours nodes with big images present',
      plugin: () => newImageLocality(),
      pod: makePod('p', { image: 'registry.local/app:1' }),
      nodes: () => [nodeInfoWith(makeNode('a', { images: [{ names: ['registry.local/app:1'], sizeBytes: 800 * 1024 * 1024 }] })), nodeInfoWith(makeNode('b'))],
      // 800 MiB × spread 1/2 = 400 MiB → (400 − 23) / (1000 − 23) → 38
      want: [38, 0],
    },
  ];
  for (const c of cases) it(c.name, () => expect(scores(c.plugin(), c.pod, c.nodes())).toEqual(c.want));
});
