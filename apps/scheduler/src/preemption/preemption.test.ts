import { describe, expect, it } from 'vitest';
import type { Pod } from '@keel/api';
import { PodScheduler } from '../core/schedule-pod';
import { Framework } from '../framework/framework';
import { newPodInfo } from '../framework/pod-info';
import { Snapshot } from '../framework/snapshot';
import { registry } from '../plugins/registry';
import { makeNode, makePod, nodeInfoWith } from '../testing/builders';
import { preempt } from './preemption';

function attempt(pod: Pod, nodes: ReturnType<typeof nodeInfoWith>[]) {
  const fw = new Framework(registry);
  const snapshot = new Snapshot(nodes);
  const info = newPodInfo(pod);
  const result = new PodScheduler(fw, { random: () => 0 }).schedule(info, snapshot);
  if (result.ok) throw new Error('expected the pod not to fit');
  return preempt(fw, info, snapshot, result.diagnosis);
}

const low = (name: string, cpu: string, priority: number) => makePod(name, { cpu, priority });

describe('preemption', () => {
  it('picks the node needing the fewest victims, and only as many as needed', () => {
    const r = attempt(makePod('vip', { cpu: '2', priority: 100 }), [
      nodeInfoWith(makeNode('a', { cpu: '4' }), [low('a1', '1', 1), low('a2', '1', 1), low('a3', '1', 1), low('a4', '1', 1)]),
      nodeInfoWith(makeNode('b', { cpu: '4' }), [low('b1', '2', 5), low('b2', '1', 50), low('b3', '1', 50)]),
    ]);
    expect(r.ok && r.candidate.node).toBe('b');
    expect(r.ok && r.candidate.victims.map((v) => v.pod.metadata.name)).toEqual(['b1']);
  });

  it('with equal counts, picks the node whose victims have the lowest priority', () => {
    const r = attempt(makePod('vip', { cpu: '2', priority: 100 }), [
      nodeInfoWith(makeNode('a', { cpu: '2' }), [low('a1', '2', 50)]),
      nodeInfoWith(makeNode('b', { cpu: '2' }), [low('b1', '2', 10)]),
    ]);
    expect(r.ok && r.candidate.node).toBe('b');
  });

  it('keeps the higher-priority pods when a lower one suffices', () => {
    const r = attempt(makePod('vip', { cpu: '1', priority: 100 }), [nodeInfoWith(makeNode('a', { cpu: '2' }), [low('keep', '1', 50), low('evict', '1', 10)])]);
    expect(r.ok && r.candidate.victims.map((v) => v.pod.metadata.name)).toEqual(['evict']);
  });

  it('never evicts pods of equal or higher priority', () => {
    const r = attempt(makePod('vip', { cpu: '2', priority: 10 }), [nodeInfoWith(makeNode('a', { cpu: '2' }), [low('peer', '2', 10)])]);
    expect(r).toEqual({ ok: false, message: '0/1 nodes are available: 1 No preemption victims found for incoming pod' });
  });

  it('does not try nodes it could never use', () => {
    const r = attempt(makePod('vip', { cpu: '2', priority: 100 }), [
      nodeInfoWith(makeNode('a', { cpu: '2', taints: [{ key: 'k', effect: 'NoSchedule' }] }), [low('x', '2', 1)]),
    ]);
    expect(r).toEqual({ ok: false, message: '0/1 nodes are available: 1 Preemption is not helpful for scheduling' });
  });

  it('respects preemptionPolicy Never', () => {
    const pod = makePod('vip', { cpu: '2', priority: 100 });
    pod.spec!.preemptionPolicy = 'Never';
    const r = attempt(pod, [nodeInfoWith(makeNode('a', { cpu: '2' }), [low('x', '2', 1)])]);
    expect(r.ok).toBe(false);
  });
});
