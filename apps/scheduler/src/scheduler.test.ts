// The scheduler end to end over a fake API: informer events in, bindings, statuses and
// events out.
import { describe, expect, it } from 'vitest';
import type { Pod, PodCondition } from '@keel/api';
import { makeNode, makePod } from './testing/builders';
import { Scheduler, type SchedulerApi } from './scheduler';

class FakeApi implements SchedulerApi {
  bindings: [string, string][] = [];
  deleted: string[] = [];
  statuses: { pod: string; condition: PodCondition; nominated?: string }[] = [];
  events: { pod: string; reason: string; message: string }[] = [];
  failBind = false;
  async bind(pod: Pod, node: string) {
    if (this.failBind) throw new Error('conflict');
    this.bindings.push([pod.metadata.name!, node]);
  }
  async deletePod(pod: Pod) {
    this.deleted.push(pod.metadata.name!);
  }
  async updatePodStatus(pod: Pod, condition: PodCondition, nominated?: string) {
    this.statuses.push({ pod: pod.metadata.name!, condition, ...(nominated ? { nominated } : {}) });
  }
  async recordEvent(pod: Pod, _type: string, reason: string, message: string) {
    this.events.push({ pod: pod.metadata.name!, reason, message });
  }
}

function setup() {
  const api = new FakeApi();
  let now = 0;
  const s = new Scheduler({ api, now: () => now, random: () => 0.5 });
  const drain = async () => {
    while (s.scheduleOne());
    await s.settle();
  };
  return { api, s, drain, advance: (ms: number) => (now += ms) };
}

describe('Scheduler', () => {
  it('binds pods, counting each assumed pod before its binding is confirmed', async () => {
    const { api, s, drain } = setup();
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '2' }));
    s.onNodeEvent('ADDED', makeNode('b', { cpu: '2' }));
    for (let i = 0; i < 4; i++) s.onPodEvent('ADDED', makePod(`p${i}`, { cpu: '1' }));
    await drain();
    const perNode = new Map<string, number>();
    for (const [, n] of api.bindings) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    expect(api.bindings).toHaveLength(4);
    expect(perNode).toEqual(new Map([['a', 2], ['b', 2]]));
  });

  it('reports an unschedulable pod as Kubernetes does', async () => {
    const { api, s, drain } = setup();
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '1' }));
    s.onNodeEvent('ADDED', makeNode('b', { cpu: '1' }));
    s.onNodeEvent('ADDED', makeNode('c', { cpu: '8', taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] }));
    s.onPodEvent('ADDED', makePod('big', { cpu: '2' }));
    await drain();
    const message =
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    expect(api.events).toEqual([{ pod: 'big', reason: 'FailedScheduling', message }]);
    expect(api.statuses).toEqual([{ pod: 'big', condition: { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message } }]);
    expect(s.queue.where('default/big')).toBe('unschedulable');
  });

  it('retries an unschedulable pod when a node is added, after its back-off', async () => {
    const { api, s, drain, advance } = setup();
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '1' }));
    s.onPodEvent('ADDED', makePod('big', { cpu: '2' }));
    await drain();
    advance(2000);
    s.onNodeEvent('ADDED', makeNode('b', { cpu: '4' }));
    await drain();
    expect(api.bindings).toEqual([['big', 'b']]);
  });

  it('forgets the assumed pod when binding fails, and retries it', async () => {
    const { api, s, drain, advance } = setup();
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '1' }));
    api.failBind = true;
    s.onPodEvent('ADDED', makePod('p', { cpu: '1' }));
    await drain();
    expect(s.cache.hasPod('default/p')).toBe(false);
    expect(s.queue.where('default/p')).toBe('backoff');
    expect(api.events.at(-1)?.message).toBe('Binding rejected: conflict');
    api.failBind = false;
    advance(1000);
    s.queue.flush();
    await drain();
    expect(api.bindings).toEqual([['p', 'a']]);
  });

  it('preempts lower-priority pods resolved from PriorityClasses and nominates the node', async () => {
    const { api, s, drain } = setup();
    s.onPriorityClassEvent('ADDED', { metadata: { name: 'high' }, value: 1000 });
    s.onPriorityClassEvent('ADDED', { metadata: { name: 'low' }, value: 10, globalDefault: true });
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '2' }));
    s.onPodEvent('ADDED', makePod('filler', { cpu: '2', nodeName: 'a', priority: 10 }));
    s.onPodEvent('ADDED', makePod('vip', { cpu: '2', priorityClassName: 'high' }));
    await drain();
    expect(api.deleted).toEqual(['filler']);
    expect(api.statuses.at(-1)).toMatchObject({ pod: 'vip', nominated: 'a' });
    // The victim goes; the pod is retried and bound.
    s.onPodEvent('DELETED', makePod('filler', { cpu: '2', nodeName: 'a', priority: 10 }));
    s.queue.flush();
    expect(s.queue.where('default/vip')).toBeDefined();
  });

  it('leaves pods for other schedulers alone', async () => {
    const { api, s, drain } = setup();
    s.onNodeEvent('ADDED', makeNode('a'));
    s.onPodEvent('ADDED', makePod('p', { schedulerName: 'other' }));
    await drain();
    expect(api.bindings).toEqual([]);
  });

  it('honours configured plugins and weights', async () => {
    const api = new FakeApi();
    const s = new Scheduler({
      api,
      now: () => 0,
      random: () => 0,
      config: { profiles: [{ plugins: { filter: { disabled: [{ name: 'TaintToleration' }] }, score: { disabled: [{ name: '*' }] } } }] },
    });
    expect(s.framework.filters.map((p) => p.name)).not.toContain('TaintToleration');
    expect(s.framework.scores).toEqual([]);
    s.onNodeEvent('ADDED', makeNode('a', { taints: [{ key: 'k', effect: 'NoSchedule' }] }));
    s.onPodEvent('ADDED', makePod('p'));
    while (s.scheduleOne());
    await s.settle();
    expect(api.bindings).toEqual([['p', 'a']]);
  });
});

describe('nominated pods', () => {
  it('room freed by preemption is kept for the nominated pod, not taken by a lesser one', async () => {
    const { api, s, drain, advance } = setup();
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '2' }));
    const filler = makePod('filler', { cpu: '2', nodeName: 'a', priority: 0 });
    s.onPodEvent('ADDED', filler);
    s.onPodEvent('ADDED', makePod('vip', { cpu: '2', priority: 100 }));
    await drain();
    expect(s.nominatedNode('default/vip')).toBe('a');
    // The victim is gone; a low-priority pod arrives before the vip is retried.
    s.onPodEvent('DELETED', filler);
    s.onPodEvent('ADDED', makePod('sneaky', { cpu: '2', priority: 1 }));
    await drain(); // the vip is still backing off; the sneaky pod is tried first
    expect(api.bindings).toEqual([]);
    advance(2000);
    s.queue.flush();
    await drain();
    expect(api.bindings).toEqual([['vip', 'a']]);
    expect(s.nominatedNode('default/vip')).toBeUndefined();
  });
});

describe('topology spread through the cache', () => {
  it('keeps zones within maxSkew as pods are assumed, bound and deleted (incremental counts)', async () => {
    const { api, s, drain } = setup();
    for (const [name, zone] of [['a1', 'z1'], ['a2', 'z1'], ['b1', 'z2'], ['c1', 'z3']] as const) {
      s.onNodeEvent('ADDED', makeNode(name, { labels: { zone } }));
    }
    const spread = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' as const, labelSelector: { matchLabels: { app: 'web' } } }];
    const zoneOf: Record<string, string> = { a1: 'z1', a2: 'z1', b1: 'z2', c1: 'z3' };
    const counts = () => {
      const c: Record<string, number> = {};
      for (const [, n] of api.bindings) c[zoneOf[n]!] = (c[zoneOf[n]!] ?? 0) + 1;
      return c;
    };
    for (let i = 0; i < 6; i++) s.onPodEvent('ADDED', makePod(`w${i}`, { labels: { app: 'web' }, spread }));
    await drain();
    expect(counts()).toEqual({ z1: 2, z2: 2, z3: 2 });
    // The informer confirms two bindings in z3, then one of them is deleted: z3 is now the emptiest.
    const inZ3 = api.bindings.filter(([, n]) => n === 'c1').map(([p]) => p);
    for (const p of inZ3) s.onPodEvent('MODIFIED', makePod(p, { labels: { app: 'web' }, nodeName: 'c1' }));
    s.onPodEvent('DELETED', makePod(inZ3[0]!, { labels: { app: 'web' }, nodeName: 'c1' }));
    s.onPodEvent('ADDED', makePod('w6', { labels: { app: 'web' }, spread }));
    await drain();
    expect(api.bindings.at(-1)).toEqual(['w6', 'c1']);
  });
});

describe('status writes', () => {
  it('does not rewrite an unchanged PodScheduled condition on retries', async () => {
    const { api, s, drain, advance } = setup();
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '1' }));
    const pod = makePod('big', { cpu: '2' });
    s.onPodEvent('ADDED', pod);
    await drain();
    expect(api.statuses).toHaveLength(1);
    // The informer brings back our own status write; a node update retries the pod.
    s.onPodEvent('MODIFIED', { ...pod, status: { phase: 'Pending', conditions: [api.statuses[0]!.condition] } });
    advance(2000);
    s.onNodeEvent('MODIFIED', makeNode('a', { cpu: '1', labels: { x: 'y' } }));
    await drain();
    expect(api.events.filter((e) => e.reason === 'FailedScheduling')).toHaveLength(2);
    expect(api.statuses).toHaveLength(1);
  });
});
