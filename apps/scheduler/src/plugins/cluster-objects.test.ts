// Plugins that read objects besides nodes and pods: InterPodAffinity's namespaceSelector
// (Namespace labels) and PodTopologySpread's default constraints (the Services and ReplicaSets
// that select a pod), configured through the KubeSchedulerConfiguration.
import { describe, expect, it } from 'vitest';
import type { Namespace, Pod, PodAffinityTerm, ReplicaSet, Service } from '@keel/api';
import { ClusterObjects } from '../framework/cluster-objects';
import { CycleState } from '../framework/interfaces';
import type { NodeInfo } from '../framework/node-info';
import { newPodInfo } from '../framework/pod-info';
import { Snapshot } from '../framework/snapshot';
import { makeNode, makePod, nodeInfoWith } from '../testing/builders';
import { Scheduler, type SchedulerApi } from '../scheduler';
import { newInterPodAffinity } from './inter-pod-affinity';
import { newPodTopologySpread } from './pod-topology-spread';

const ns = (name: string, labels: Record<string, string>): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const service = (name: string, selector: Record<string, string>, namespace = 'default'): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector, ports: [{ port: 80 }] },
});
const replicaSet = (name: string, matchLabels: Record<string, string>): ReplicaSet => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name, namespace: 'default' },
  spec: { replicas: 1, selector: { matchLabels }, template: { metadata: { labels: matchLabels }, spec: { containers: [] } } },
});

function snapshotOf(nodes: NodeInfo[], objects: ClusterObjects): Snapshot {
  return new Snapshot(nodes, undefined, undefined, undefined, objects);
}

function filterCodes(pod: Pod, nodes: NodeInfo[], objects: ClusterObjects): string[] {
  const plugin = newInterPodAffinity();
  const info = newPodInfo(pod);
  const state = new CycleState();
  const pre = plugin.preFilter(state, info, snapshotOf(nodes, objects));
  if (pre.code === 'Skip') return nodes.map(() => 'Success');
  return nodes.map((n) => {
    const s = plugin.filter(state, info, n);
    return s.code === 'Success' ? 'Success' : s.reasons.join();
  });
}

describe('InterPodAffinity namespaceSelector', () => {
  const objects = new ClusterObjects();
  objects.setNamespace(ns('team-a', { team: 'a' }));
  objects.setNamespace(ns('team-b', { team: 'b' }));
  const web = (name: string, namespace: string, term?: PodAffinityTerm) =>
    makePod(name, { namespace, labels: { app: 'web' }, ...(term ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } : {}) });
  const teamA: PodAffinityTerm = { labelSelector: { matchLabels: { app: 'web' } }, namespaceSelector: { matchLabels: { team: 'a' } }, topologyKey: 'kubernetes.io/hostname' };

  it("selects pods in the namespaces whose labels match the incoming pod's term", () => {
    const nodes = [nodeInfoWith(makeNode('n1'), [web('x', 'team-a')]), nodeInfoWith(makeNode('n2'), [web('y', 'team-b')])];
    expect(filterCodes(web('p', 'default', teamA), nodes, objects)).toEqual(["node(s) didn't match pod anti-affinity rules", 'Success']);
    // Without Namespace objects the selector selects no namespace.
    expect(filterCodes(web('p', 'default', teamA), nodes, new ClusterObjects())).toEqual(['Success', 'Success']);
  });

  it("applies an existing pod's term to incoming pods from the namespaces it selects", () => {
    const nodes = [nodeInfoWith(makeNode('n1'), [web('x', 'team-b', teamA)]), nodeInfoWith(makeNode('n2'))];
    expect(filterCodes(web('p', 'team-a'), nodes, objects)).toEqual(["node(s) didn't satisfy existing pods anti-affinity rules", 'Success']);
    expect(filterCodes(web('p', 'team-b'), nodes, objects)).toEqual(['Success', 'Success']);
  });

  it('adds the namespaces listed in the term to those the selector matches', () => {
    const nodes = [nodeInfoWith(makeNode('n1'), [web('x', 'team-a')]), nodeInfoWith(makeNode('n2'), [web('y', 'other')])];
    expect(filterCodes(web('p', 'default', { ...teamA, namespaces: ['other'] }), nodes, objects)).toEqual([
      "node(s) didn't match pod anti-affinity rules",
      "node(s) didn't match pod anti-affinity rules",
    ]);
  });
});

function spreadScores(pod: Pod, nodes: NodeInfo[], objects: ClusterObjects, args = {}): number[] | 'Skip' {
  const plugin = newPodTopologySpread(args);
  const info = newPodInfo(pod);
  const state = new CycleState();
  if (plugin.preScore(state, info, nodes, snapshotOf(nodes, objects)).code === 'Skip') return 'Skip';
  const out = nodes.map((n) => plugin.score(state, info, n));
  plugin.normalizeScores?.(state, info, out);
  return out;
}

describe('PodTopologySpread default constraints', () => {
  const zoned = (name: string, zone: string | undefined, pods: Pod[] = []) =>
    nodeInfoWith(makeNode(name, { labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} }), pods);
  const web = (name: string) => makePod(name, { labels: { app: 'web', pod: name } });

  it('spreads the pods a Service selects over hosts and zones (system defaults)', () => {
    const objects = new ClusterObjects();
    objects.setService(service('web', { app: 'web' }));
    const nodes = [zoned('n1', 'z1', [web('a'), web('b'), web('c')]), zoned('n2', 'z1'), zoned('n3', 'z2')];
    const scores = spreadScores(web('p'), nodes, objects);
    expect(scores).not.toBe('Skip');
    const [n1, n2, n3] = scores as number[];
    // n3 is an empty host in an empty zone; n2 an empty host in the crowded zone; n1 holds them all.
    expect(n3).toBeGreaterThan(n2!);
    expect(n2).toBeGreaterThan(n1!);
  });

  it('does not spread a pod nothing selects, or in another namespace', () => {
    const objects = new ClusterObjects();
    objects.setService(service('web', { app: 'web' }, 'elsewhere'));
    const nodes = [zoned('n1', 'z1', [web('a')]), zoned('n2', 'z2')];
    expect(spreadScores(web('p'), nodes, objects)).toBe('Skip');
    expect(spreadScores(web('p'), nodes, new ClusterObjects())).toBe('Skip');
  });

  it('counts a node without a zone for the hostname constraint under the system defaults', () => {
    const objects = new ClusterObjects();
    objects.setReplicaSet(replicaSet('web-1', { app: 'web' }));
    const nodes = [zoned('n1', undefined, [web('a'), web('b')]), zoned('n2', undefined)];
    const [n1, n2] = spreadScores(web('p'), nodes, objects) as number[];
    expect(n2).toBeGreaterThan(n1!);
  });

  it('uses no defaults with defaultingType List and no defaultConstraints', () => {
    const objects = new ClusterObjects();
    objects.setService(service('web', { app: 'web' }));
    expect(spreadScores(web('p'), [zoned('n1', 'z1', [web('a')]), zoned('n2', 'z2')], objects, { defaultingType: 'List' })).toBe('Skip');
  });

  it('rejects args Kubernetes rejects', () => {
    expect(() => newPodTopologySpread({ defaultConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] })).toThrow(/must be empty/);
    expect(() =>
      newPodTopologySpread({
        defaultingType: 'List',
        defaultConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { a: 'b' } } }],
      }),
    ).toThrow(/must not define a selector/);
  });

  it('applies configured DoNotSchedule defaults to a ReplicaSet’s pods (KubeSchedulerConfiguration)', async () => {
    const bindings: [string, string][] = [];
    const api: SchedulerApi = {
      bind: async (pod, node) => void bindings.push([pod.metadata.name!, node]),
      deletePod: async () => undefined,
      updatePodStatus: async () => undefined,
      recordEvent: async () => undefined,
    };
    const s = new Scheduler({
      api,
      now: () => 0,
      random: () => 0.5,
      config: {
        profiles: [
          {
            pluginConfig: [
              {
                name: 'PodTopologySpread',
                args: { defaultingType: 'List', defaultConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }] },
              },
            ],
          },
        ],
      },
    });
    s.onReplicaSetEvent('ADDED', replicaSet('web-1', { app: 'web' }));
    // Zone z1 has room for many pods and is preferred by resources; z2 is small.
    s.onNodeEvent('ADDED', makeNode('big', { cpu: '16', memory: '64Gi', labels: { 'topology.kubernetes.io/zone': 'z1' } }));
    s.onNodeEvent('ADDED', makeNode('small', { cpu: '2', memory: '2Gi', labels: { 'topology.kubernetes.io/zone': 'z2' } }));
    for (let i = 0; i < 4; i++) s.onPodEvent('ADDED', makePod(`web-${i}`, { cpu: '100m', labels: { app: 'web' } }));
    while (s.scheduleOne());
    await s.settle();
    const perZone = new Map<string, number>();
    for (const [, node] of bindings) perZone.set(node, (perZone.get(node) ?? 0) + 1);
    expect(perZone).toEqual(new Map([['big', 2], ['small', 2]]));
  });
});
