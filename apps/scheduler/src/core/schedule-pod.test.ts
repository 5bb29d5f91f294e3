// The feasible-node search runs filters in an adaptive order and works out the diagnosis only
// when no node fits; its answers must be those of running every filter in configured order on
// each node. Random clusters (zones, taints, cordons, full nodes, spread and affinity pods)
// are scheduled both ways from the same start node.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pod } from '@keel/api';
import { SchedulerCache } from '../framework/cache';
import { Framework } from '../framework/framework';
import { CycleState } from '../framework/interfaces';
import type { NodeInfo } from '../framework/node-info';
import { newPodInfo, type PodInfo } from '../framework/pod-info';
import type { Snapshot } from '../framework/snapshot';
import { registry } from '../plugins/registry';
import { makeNode, makePod } from '../testing/builders';
import { fitErrorMessage, newDiagnosis } from './fit-error';
import { numFeasibleNodesToFind, PodScheduler } from './schedule-pod';

/** The search as written before: configured filter order on every node, statuses as found. */
function reference(fw: Framework, pod: PodInfo, snapshot: Snapshot, start: number) {
  const nodes = snapshot.nodeInfos;
  const state = new CycleState();
  const pre = fw.runPreFilters(state, pod, snapshot);
  const diagnosis = newDiagnosis();
  if (pre.status.code !== 'Success') return { feasible: [] as string[], evaluated: 0, message: pre.status.reasons.join() };
  const feasible: NodeInfo[] = [];
  const wanted = numFeasibleNodesToFind(nodes.length);
  let evaluated = 0;
  for (let i = 0; i < nodes.length && feasible.length < wanted; i++) {
    evaluated++;
    const node = nodes[(start + i) % nodes.length]!;
    const s = fw.runFilters(state, pod, node, pre.skipped);
    if (s.code === 'Success') feasible.push(node);
    else {
      diagnosis.nodeStatuses.set(node.name, s);
      if (s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
    }
  }
  return {
    feasible: feasible.map((n) => n.name),
    evaluated,
    message: feasible.length === 0 ? `${fitErrorMessage(nodes.length, diagnosis)} ${[...diagnosis.unschedulablePlugins].sort()}` : '',
  };
}

const arbNode = fc.record({
  zone: fc.constantFrom('z0', 'z1', 'z2'),
  cpu: fc.constantFrom('1', '2', '4'),
  tainted: fc.boolean(),
  cordoned: fc.boolean(),
});

const arbPod = fc.record({
  app: fc.constantFrom('a', 'b'),
  cpu: fc.constantFrom('500m', '1', '3'),
  spread: fc.boolean(),
  antiAffinity: fc.boolean(),
  tolerates: fc.boolean(),
  zoneSelector: fc.option(fc.constantFrom('z0', 'z1'), { nil: undefined }),
});
type PodSpec = typeof arbPod extends fc.Arbitrary<infer T> ? T : never;

function podOf(name: string, s: PodSpec, nodeName?: string): Pod {
  return makePod(name, {
    cpu: s.cpu,
    labels: { app: s.app },
    ...(nodeName ? { nodeName } : {}),
    ...(s.zoneSelector ? { nodeSelector: { zone: s.zoneSelector } } : {}),
    ...(s.tolerates ? { tolerations: [{ key: 'dedicated', operator: 'Exists' as const }] } : {}),
    ...(s.spread ? { spread: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' as const, labelSelector: { matchLabels: { app: s.app } } }] } : {}),
    ...(s.antiAffinity
      ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: s.app } }, topologyKey: 'kubernetes.io/hostname' }] } } }
      : {}),
  });
}

describe('PodScheduler feasible-node search', () => {
  it('finds the nodes, and explains a failure, as configured-order filtering does', () => {
    fc.assert(
      fc.property(fc.array(arbNode, { minLength: 1, maxLength: 12 }), fc.array(arbPod, { minLength: 1, maxLength: 25 }), (nodes, pods) => {
        const cache = new SchedulerCache();
        nodes.forEach((n, i) =>
          cache.addNode(
            makeNode(`n${i}`, {
              cpu: n.cpu,
              labels: { zone: n.zone },
              ...(n.tainted ? { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' as const }] } : {}),
              unschedulable: n.cordoned,
            }),
          ),
        );
        const fw = new Framework(registry);
        const scheduler = new PodScheduler(fw, { random: () => 0 });
        pods.forEach((s, i) => {
          const pod = newPodInfo(podOf(`p${i}`, s));
          const snapshot = cache.snapshot();
          const want = reference(fw, pod, snapshot, scheduler.nextStart % nodes.length);
          const got = scheduler.schedule(pod, snapshot);
          if (got.ok) {
            expect([got.evaluated, got.feasible]).toEqual([want.evaluated, want.feasible.length]);
            expect(want.feasible).toContain(got.node);
            cache.assumePod(pod, got.node);
          } else {
            expect(want.feasible).toEqual([]);
            expect(`${fitErrorMessage(got.numAllNodes, got.diagnosis)} ${[...got.diagnosis.unschedulablePlugins].sort()}`).toBe(want.message);
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});
