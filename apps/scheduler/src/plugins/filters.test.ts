// Table-driven checks of each filter plugin against one node.
import { describe, expect, it } from 'vitest';
import { CycleState, type FilterPlugin, type PreFilterPlugin } from '../framework/interfaces';
import { newPodInfo } from '../framework/pod-info';
import { Snapshot } from '../framework/snapshot';
import type { Code } from '../framework/status';
import { makeNode, makePod, nodeInfoWith } from '../testing/builders';
import type { NodeInfo } from '../framework/node-info';
import type { Pod } from '@keel/api';
import { newInterPodAffinity } from './inter-pod-affinity';
import { newNodeAffinity } from './node-affinity';
import { newNodeName } from './node-name';
import { newNodePorts } from './node-ports';
import { newNodeResourcesFit } from './node-resources-fit';
import { newNodeUnschedulable } from './node-unschedulable';
import { newPodTopologySpread } from './pod-topology-spread';
import { newTaintToleration } from './taint-toleration';

interface Case {
  name: string;
  pod: Pod;
  node: NodeInfo;
  /** Other nodes in the cluster (for affinity and spreading). */
  others?: NodeInfo[];
  code: Code;
  reasons?: string[];
}

function run(plugin: FilterPlugin & Partial<PreFilterPlugin>, c: Case) {
  const pod = newPodInfo(c.pod);
  const state = new CycleState();
  const snapshot = new Snapshot([c.node, ...(c.others ?? [])]);
  if (plugin.preFilter) {
    const pre = plugin.preFilter(state, pod, snapshot);
    if (pre.code === 'Skip') return { code: 'Success' as Code, reasons: [] as readonly string[] };
    if (pre.code !== 'Success') return pre;
  }
  return plugin.filter(state, pod, c.node);
}

function table(plugin: () => FilterPlugin, cases: Case[]) {
  for (const c of cases) {
    it(c.name, () => {
      const s = run(plugin(), c);
      expect(s.code).toBe(c.code);
      if (c.reasons) expect(s.reasons).toEqual(c.reasons);
    });
  }
}

describe('NodeResourcesFit', () => {
  const node = (pods: Pod[] = []) => nodeInfoWith(makeNode('n', { cpu: '2', memory: '4Gi', pods: '3', ephemeralStorage: '10Gi' }), pods);
  table(newNodeResourcesFit, [
    { name: 'fits', pod: makePod('p', { cpu: '1', memory: '1Gi' }), node: node(), code: 'Success' },
    { name: 'no requests always fits', pod: makePod('p'), node: node([makePod('a', { cpu: '2', memory: '4Gi' })]), code: 'Success' },
    { name: 'insufficient cpu', pod: makePod('p', { cpu: '1500m' }), node: node([makePod('a', { cpu: '1' })]), code: 'Unschedulable', reasons: ['Insufficient cpu'] },
    {
      name: 'every shortfall is reported',
      pod: makePod('p', { cpu: '3', memory: '5Gi', ephemeralStorage: '11Gi' }),
      node: node(),
      code: 'Unschedulable',
      reasons: ['Insufficient cpu', 'Insufficient memory', 'Insufficient ephemeral-storage'],
    },
    { name: 'too many pods', pod: makePod('p'), node: node([makePod('a'), makePod('b'), makePod('c')]), code: 'Unschedulable', reasons: ['Too many pods'] },
    {
      name: 'an init container peak above the containers counts',
      pod: makePod('p', { cpu: '500m', initContainers: [{ name: 'init', image: 'x', resources: { requests: { cpu: '2500m' } } }] }),
      node: node(),
      code: 'Unschedulable',
      reasons: ['Insufficient cpu'],
    },
    {
      name: 'a smaller init container does not add to the containers',
      pod: makePod('p', { cpu: '2', initContainers: [{ name: 'init', image: 'x', resources: { requests: { cpu: '1' } } }] }),
      node: node(),
      code: 'Success',
    },
  ]);
});

describe('NodeName', () => {
  table(newNodeName, [
    { name: 'no name fits anywhere', pod: makePod('p'), node: nodeInfoWith(makeNode('a')), code: 'Success' },
    { name: 'the named node fits', pod: makePod('p', { nodeName: 'a' }), node: nodeInfoWith(makeNode('a')), code: 'Success' },
    {
      name: 'another node does not',
      pod: makePod('p', { nodeName: 'b' }),
      node: nodeInfoWith(makeNode('a')),
      code: 'UnschedulableAndUnresolvable',
      reasons: ["node(s) didn't match the requested node name"],
    },
  ]);
});

describe('NodeUnschedulable', () => {
  const cordoned = nodeInfoWith(makeNode('a', { unschedulable: true }));
  table(newNodeUnschedulable, [
    { name: 'schedulable node', pod: makePod('p'), node: nodeInfoWith(makeNode('a')), code: 'Success' },
    { name: 'cordoned node', pod: makePod('p'), node: cordoned, code: 'UnschedulableAndUnresolvable', reasons: ['node(s) were unschedulable'] },
    {
      name: 'cordoned node with the toleration',
      pod: makePod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }),
      node: cordoned,
      code: 'Success',
    },
  ]);
});

describe('TaintToleration', () => {
  const tainted = nodeInfoWith(makeNode('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
  table(newTaintToleration, [
    { name: 'untainted', pod: makePod('p'), node: nodeInfoWith(makeNode('a')), code: 'Success' },
    { name: 'untolerated', pod: makePod('p'), node: tainted, code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint {dedicated: gpu}'] },
    { name: 'tolerated with Equal', pod: makePod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] }), node: tainted, code: 'Success' },
    { name: 'wrong value', pod: makePod('p', { tolerations: [{ key: 'dedicated', value: 'cpu' }] }), node: tainted, code: 'UnschedulableAndUnresolvable' },
    { name: 'Exists with no key tolerates all', pod: makePod('p', { tolerations: [{ operator: 'Exists' }] }), node: tainted, code: 'Success' },
    { name: 'wrong effect', pod: makePod('p', { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }] }), node: tainted, code: 'UnschedulableAndUnresolvable' },
    {
      name: 'PreferNoSchedule does not filter',
      pod: makePod('p'),
      node: nodeInfoWith(makeNode('a', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] })),
      code: 'Success',
    },
  ]);
});

describe('NodeAffinity', () => {
  const zoneA = nodeInfoWith(makeNode('a', { labels: { zone: 'a', size: '8' } }));
  const required = (op: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt', values?: string[], key = 'zone') => ({
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator: op, ...(values ? { values } : {}) }] }] } },
  });
  const fail = "node(s) didn't match Pod's node affinity/selector";
  table(newNodeAffinity, [
    { name: 'nodeSelector matches', pod: makePod('p', { nodeSelector: { zone: 'a' } }), node: zoneA, code: 'Success' },
    { name: 'nodeSelector does not', pod: makePod('p', { nodeSelector: { zone: 'b' } }), node: zoneA, code: 'UnschedulableAndUnresolvable', reasons: [fail] },
    { name: 'In', pod: makePod('p', { affinity: required('In', ['a', 'c']) }), node: zoneA, code: 'Success' },
    { name: 'NotIn', pod: makePod('p', { affinity: required('NotIn', ['a']) }), node: zoneA, code: 'UnschedulableAndUnresolvable' },
    { name: 'Exists', pod: makePod('p', { affinity: required('Exists') }), node: zoneA, code: 'Success' },
    { name: 'DoesNotExist', pod: makePod('p', { affinity: required('DoesNotExist') }), node: zoneA, code: 'UnschedulableAndUnresolvable' },
    { name: 'Gt', pod: makePod('p', { affinity: required('Gt', ['4'], 'size') }), node: zoneA, code: 'Success' },
    { name: 'Lt', pod: makePod('p', { affinity: required('Lt', ['4'], 'size') }), node: zoneA, code: 'UnschedulableAndUnresolvable' },
    {
      name: 'matchFields on metadata.name',
      pod: makePod('p', {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } } },
      }),
      node: zoneA,
      code: 'Success',
    },
    {
      name: 'selector and affinity must both hold',
      pod: makePod('p', { nodeSelector: { zone: 'b' }, affinity: required('In', ['a']) }),
      node: zoneA,
      code: 'UnschedulableAndUnresolvable',
    },
  ]);
});

describe('NodePorts', () => {
  const busy = nodeInfoWith(makeNode('a'), [makePod('x', { hostPorts: [8080] })]);
  table(newNodePorts, [
    { name: 'free port', pod: makePod('p', { hostPorts: [9090] }), node: busy, code: 'Success' },
    { name: 'taken port', pod: makePod('p', { hostPorts: [8080] }), node: busy, code: 'Unschedulable', reasons: ["node(s) didn't have free ports for the requested pod ports"] },
    { name: 'no host ports', pod: makePod('p'), node: busy, code: 'Success' },
  ]);
});

describe('InterPodAffinity', () => {
  const zone = (name: string, z: string, pods: Pod[] = []) => nodeInfoWith(makeNode(name, { labels: { zone: z } }), pods);
  const term = (app: string, topologyKey = 'zone') => ({ labelSelector: { matchLabels: { app } }, topologyKey });
  const web = makePod('web-1', { labels: { app: 'web' } });
  const affinity = (app: string) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app)] } });
  const anti = (app: string, key = 'zone') => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app, key)] } });
  table(newInterPodAffinity, [
    { name: 'affinity satisfied in the same zone', pod: makePod('p', { affinity: affinity('web') }), node: zone('a', 'z1'), others: [zone('b', 'z1', [web])], code: 'Success' },
    {
      name: 'affinity not satisfied in another zone',
      pod: makePod('p', { affinity: affinity('web') }),
      node: zone('a', 'z2'),
      others: [zone('b', 'z1', [web])],
      code: 'UnschedulableAndUnresolvable',
      reasons: ["node(s) didn't match pod affinity rules"],
    },
    {
      name: 'the first pod of a self-selecting group goes anywhere',
      pod: makePod('p', { labels: { app: 'web' }, affinity: affinity('web') }),
      node: zone('a', 'z2'),
      code: 'Success',
    },
    {
      name: 'anti-affinity rejects a zone with a match',
      pod: makePod('p', { affinity: anti('web') }),
      node: zone('a', 'z1'),
      others: [zone('b', 'z1', [web])],
      code: 'Unschedulable',
      reasons: ["node(s) didn't match pod anti-affinity rules"],
    },
    { name: 'anti-affinity allows another zone', pod: makePod('p', { affinity: anti('web') }), node: zone('a', 'z2'), others: [zone('b', 'z1', [web])], code: 'Success' },
    {
      name: "an existing pod's anti-affinity keeps the incoming pod out",
      pod: makePod('p', { labels: { app: 'db' } }),
      node: zone('a', 'z1'),
      others: [zone('b', 'z1', [makePod('guard', { affinity: anti('db') })])],
      code: 'Unschedulable',
      reasons: ["node(s) didn't satisfy existing pods anti-affinity rules"],
    },
    {
      name: 'other namespaces do not count',
      pod: makePod('p', { affinity: anti('web') }),
      node: zone('a', 'z1'),
      others: [zone('b', 'z1', [makePod('w', { namespace: 'other', labels: { app: 'web' } })])],
      code: 'Success',
    },
  ]);
});

describe('PodTopologySpread', () => {
  const zone = (name: string, z: string | undefined, n: number) =>
    nodeInfoWith(
      makeNode(name, z ? { labels: { zone: z } } : {}),
      Array.from({ length: n }, (_, i) => makePod(`${name}-${i}`, { labels: { app: 'web' } })),
    );
  const spread = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' as const, labelSelector: { matchLabels: { app: 'web' } } }];
  const pod = makePod('p', { labels: { app: 'web' }, spread });
  table(newPodTopologySpread, [
    { name: 'the emptier zone is allowed', pod, node: zone('a', 'z1', 0), others: [zone('b', 'z2', 1)], code: 'Success' },
    {
      name: 'the fuller zone would skew by 2',
      pod,
      node: zone('a', 'z1', 1),
      others: [zone('b', 'z2', 0)],
      code: 'Unschedulable',
      reasons: ["node(s) didn't match pod topology spread constraints"],
    },
    {
      name: 'a node without the key',
      pod,
      node: zone('a', undefined, 0),
      others: [zone('b', 'z2', 0)],
      code: 'UnschedulableAndUnresolvable',
      reasons: ["node(s) didn't match pod topology spread constraints (missing required label)"],
    },
    { name: 'ScheduleAnyway does not filter', pod: makePod('p', { labels: { app: 'web' }, spread: [{ ...spread[0]!, whenUnsatisfiable: 'ScheduleAnyway' }] }), node: zone('a', 'z1', 5), others: [zone('b', 'z2', 0)], code: 'Success' },
  ]);
});
