// The counts PodTopologySpread and InterPodAffinity keep across cycles must give the same
// answers as counting the cluster afresh: random clusters go through random pod adds, deletes,
// assumes, forgets and node relabels in the cache, and after each step one long-lived plugin
// (reading the cache's snapshot, so updating its kept counts) and one new plugin (reading a
// snapshot without a version, so counting everything) judge a random incoming pod on every
// node: same PreFilter code, same Filter statuses, same raw and normalized scores.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pod, PodAffinityTerm, TopologySpreadConstraint } from '@keel/api';
import { SchedulerCache } from './cache';
import { CycleState, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from './interfaces';
import { newPodInfo } from './pod-info';
import { Snapshot } from './snapshot';
import { countAfresh, DomainCounts } from './domain-counts';
import { makeNode, makePod } from '../testing/builders';
import { newInterPodAffinity } from '../plugins/inter-pod-affinity';
import { newPodTopologySpread } from '../plugins/pod-topology-spread';

type Plugin = PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;

const apps = ['a', 'b', 'c'];
const namespaces = ['ns1', 'ns2'];
const topologyKeys = ['zone', 'rack', 'kubernetes.io/hostname'];

const arbSelector = fc.oneof(
  fc.constantFrom(...apps).map((app) => ({ matchLabels: { app } })),
  fc.constant({}),
  fc.constantFrom(...apps).map((app) => ({ matchExpressions: [{ key: 'app', operator: 'NotIn' as const, values: [app] }] })),
);

const arbTerm: fc.Arbitrary<PodAffinityTerm> = fc.record(
  {
    labelSelector: arbSelector,
    topologyKey: fc.constantFrom(...topologyKeys),
    namespaces: fc.subarray(namespaces),
    namespaceSelector: fc.constant({}),
  },
  { requiredKeys: ['labelSelector', 'topologyKey'] },
);

const arbWeighted = fc.record({ weight: fc.integer({ min: 1, max: 100 }), podAffinityTerm: arbTerm });

const arbSpread: fc.Arbitrary<TopologySpreadConstraint> = fc.record({
  maxSkew: fc.integer({ min: 1, max: 3 }),
  topologyKey: fc.constantFrom(...topologyKeys),
  whenUnsatisfiable: fc.constantFrom('DoNotSchedule' as const, 'ScheduleAnyway' as const),
  labelSelector: arbSelector,
  minDomains: fc.constantFrom(1, 4),
});

const arbPodSpec = fc.record({
  app: fc.constantFrom(...apps),
  namespace: fc.constantFrom(...namespaces),
  affinity: fc.array(arbTerm, { maxLength: 2 }),
  antiAffinity: fc.array(arbTerm, { maxLength: 1 }),
  preferredAffinity: fc.array(arbWeighted, { maxLength: 2 }),
  preferredAntiAffinity: fc.array(arbWeighted, { maxLength: 2 }),
  spread: fc.array(arbSpread, { maxLength: 2 }),
  zoneSelector: fc.option(fc.constantFrom('z0', 'z1'), { nil: undefined }),
});
type PodSpec = typeof arbPodSpec extends fc.Arbitrary<infer T> ? T : never;

function pod(name: string, s: PodSpec, nodeName?: string): Pod {
  return makePod(name, {
    namespace: s.namespace,
    labels: { app: s.app },
    ...(nodeName ? { nodeName } : {}),
    ...(s.zoneSelector ? { nodeSelector: { zone: s.zoneSelector } } : {}),
    spread: s.spread,
    affinity: {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: s.affinity, preferredDuringSchedulingIgnoredDuringExecution: s.preferredAffinity },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: s.antiAffinity, preferredDuringSchedulingIgnoredDuringExecution: s.preferredAntiAffinity },
    },
  });
}

const arbOp = fc.oneof(
  fc.record({ op: fc.constant('add' as const), node: fc.nat(7), pod: arbPodSpec }),
  fc.record({ op: fc.constant('assume' as const), node: fc.nat(7), pod: arbPodSpec }),
  fc.record({ op: fc.constant('remove' as const), which: fc.nat() }),
  fc.record({ op: fc.constant('forget' as const), which: fc.nat() }),
  fc.record({ op: fc.constant('relabel' as const), node: fc.nat(7), zone: fc.nat(2), rack: fc.option(fc.nat(3), { nil: undefined }) }),
  fc.record({ op: fc.constant('judge' as const), pod: arbPodSpec }),
);

function nodeObject(i: number, zone: number, rack: number | undefined) {
  return makeNode(`node-${i}`, { labels: { zone: `z${zone}`, ...(rack !== undefined ? { rack: `r${rack}` } : {}) } });
}

/** Everything one plugin says about `incoming` on every node of `snapshot`. */
function judge(plugin: Plugin, incoming: Pod, snapshot: Snapshot) {
  const info = newPodInfo(incoming);
  const state = new CycleState();
  const pre = plugin.preFilter(state, info, snapshot);
  const filters = snapshot.nodeInfos.map((n) => (pre.code === 'Skip' ? 'skip' : `${plugin.filter(state, info, n).code} ${plugin.filter(state, info, n).reasons.join()}`));
  const preScore = plugin.preScore(state, info, snapshot.nodeInfos, snapshot);
  const raw = preScore.code === 'Skip' ? [] : snapshot.nodeInfos.map((n) => plugin.score(state, info, n));
  const normalized = [...raw];
  plugin.normalizeScores?.(state, info, normalized);
  return { pre: pre.code, filters, preScore: preScore.code, raw, normalized };
}

describe('DomainCounts', () => {
  it('keeps the same totals as counting afresh, node by node', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 3; i++) cache.addNode(nodeObject(i, i % 2, i));
    const memo = new DomainCounts();
    const contribute = (node: { pods: readonly unknown[]; node: { metadata: { labels?: Record<string, string> } } }, add: (g: string, p: null, k: string, n: number) => void) =>
      add('', null, node.node.metadata.labels?.['zone'] ?? '-', node.pods.length);
    const read = () => [...(memo.totals(cache.snapshot(), 'k', contribute, true).get('')?.counts ?? [])].sort();
    const afresh = () => [...(countAfresh(cache.snapshot().nodeInfos, contribute, true).get('')?.counts ?? [])].sort();
    expect(read()).toEqual([['z0', 0], ['z1', 0]]);
    cache.addPod(makePod('p1', { nodeName: 'node-0' }));
    cache.addPod(makePod('p2', { nodeName: 'node-1' }));
    expect(read()).toEqual([['z0', 1], ['z1', 1]]);
    cache.removePod(makePod('p2', { nodeName: 'node-1' }));
    cache.addPod(makePod('p3', { nodeName: 'node-2' }));
    expect(read()).toEqual(afresh());
    expect(read()).toEqual([['z0', 2], ['z1', 0]]);
  });

  it('counts afresh a key whose memo the capacity pushed out, and stays right', () => {
    const cache = new SchedulerCache();
    cache.addNode(nodeObject(0, 0, 0));
    const memo = new DomainCounts(2);
    const byApp = (app: string) => (node: { pods: readonly { labels: Record<string, string> }[] }, add: (g: string, p: null, k: string, n: number) => void) =>
      add('', null, 'all', node.pods.filter((p) => p.labels['app'] === app).length);
    const read = (app: string) => memo.totals(cache.snapshot(), app, byApp(app), true).get('')?.counts.get('all');
    for (let i = 0; i < 6; i++) {
      const app = apps[i % 3]!;
      cache.addPod(makePod(`p${i}`, { nodeName: 'node-0', labels: { app } }));
      // Three keys through a memo of two: each read may find its memo gone.
      expect(apps.map(read)).toEqual(apps.map((a) => Math.floor(i / 3) + (apps.indexOf(a) <= i % 3 ? 1 : 0)));
    }
  });

  it('gives PodTopologySpread and InterPodAffinity the answers of a fresh count (random clusters)', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 1, maxLength: 40 }), (ops) => {
        const cache = new SchedulerCache();
        for (let i = 0; i < 8; i++) cache.addNode(nodeObject(i, i % 3, i % 5 === 4 ? undefined : i % 4));
        const kept = { spread: newPodTopologySpread(), affinity: newInterPodAffinity() };
        const placed: { pod: Pod; assumed: boolean }[] = [];
        let n = 0;
        for (const o of ops) {
          switch (o.op) {
            case 'add': {
              const p = pod(`p${n++}`, o.pod, `node-${o.node}`);
              cache.addPod(p);
              placed.push({ pod: p, assumed: false });
              break;
            }
            case 'assume': {
              const p = pod(`p${n++}`, o.pod);
              cache.assumePod(newPodInfo(p), `node-${o.node}`);
              placed.push({ pod: { ...p, spec: { ...p.spec!, nodeName: `node-${o.node}` } }, assumed: true });
              break;
            }
            case 'remove':
            case 'forget': {
              if (placed.length === 0) break;
              const i = o.which % placed.length;
              const [gone] = placed.splice(i, 1);
              if (o.op === 'remove') cache.removePod(gone!.pod);
              else if (gone!.assumed) cache.forgetPod(`${gone!.pod.metadata.namespace}/${gone!.pod.metadata.name}`);
              else placed.splice(i, 0, gone!);
              break;
            }
            case 'relabel':
              cache.updateNode(nodeObject(o.node, o.zone, o.rack));
              break;
            case 'judge': {
              const incoming = pod(`incoming-${n++}`, o.pod);
              const live = cache.snapshot();
              const fresh = new Snapshot(live.nodeInfos);
              expect(judge(kept.spread, incoming, live)).toEqual(judge(newPodTopologySpread(), incoming, fresh));
              expect(judge(kept.affinity, incoming, live)).toEqual(judge(newInterPodAffinity(), incoming, fresh));
              break;
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
