import { describe, expect, it } from 'vitest';
import { newPodInfo } from '../framework/pod-info';
import { makePod } from '../testing/builders';
import { SchedulingQueue } from './scheduling-queue';

function queue() {
  let now = 0;
  const q = new SchedulingQueue({
    now: () => now,
    pluginsInterestedIn: (e) => new Set(e === 'NodeAdd' ? ['NodeResourcesFit', 'TaintToleration'] : e === 'PodDelete' ? ['NodeResourcesFit'] : []),
  });
  return { q, advance: (ms: number) => (now += ms) };
}

describe('SchedulingQueue', () => {
  it('pops by priority, then arrival', () => {
    const { q, advance } = queue();
    q.add(makePod('low-early', { priority: 1 }));
    advance(1);
    q.add(makePod('high', { priority: 10 }));
    advance(1);
    q.add(makePod('low-late', { priority: 1 }));
    expect([q.pop(), q.pop(), q.pop()].map((p) => p?.info.pod.metadata.name)).toEqual(['high', 'low-early', 'low-late']);
    expect(q.pop()).toBeUndefined();
  });

  it('backs off exponentially from 1s to 10s', () => {
    const { q } = queue();
    expect([1, 2, 3, 4, 5, 6].map((n) => q.backoffDurationMs(n))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });

  it('a failed pod waits out its back-off before it can be popped again', () => {
    const { q, advance } = queue();
    q.add(makePod('p'));
    const p = q.pop()!;
    q.addBackoff(p);
    expect(q.where('default/p')).toBe('backoff');
    advance(999);
    q.flush();
    expect(q.pop()).toBeUndefined();
    advance(1);
    q.flush();
    expect(q.pop()?.info.key).toBe('default/p');
  });

  it('moves unschedulable pods back only on events their plugins care about', () => {
    const { q, advance } = queue();
    q.add(makePod('cpu'));
    q.add(makePod('taint'));
    const a = q.pop()!;
    q.addUnschedulable(a, q.cycle, ['NodeResourcesFit']);
    const b = q.pop()!;
    q.addUnschedulable(b, q.cycle, ['TaintToleration']);
    expect(q.lengths()).toEqual({ active: 0, backoff: 0, unschedulable: 2 });
    advance(5000);
    q.moveAllOnEvent('PodDelete'); // frees resources: helps the cpu pod only
    expect(q.where('default/cpu')).toBe('active');
    expect(q.where('default/taint')).toBe('unschedulable');
    q.moveAllOnEvent('NodeAdd');
    expect(q.where('default/taint')).toBe('active');
  });

  it('a moved pod still inside its back-off goes to backoffQ', () => {
    const { q, advance } = queue();
    q.add(makePod('p'));
    const p = q.pop()!;
    q.addUnschedulable(p, q.cycle, ['NodeResourcesFit']);
    advance(10);
    q.moveAllOnEvent('NodeAdd');
    expect(q.where('default/p')).toBe('backoff');
  });

  it('an event during the attempt sends the pod to backoff, not unschedulable', () => {
    const { q, advance } = queue();
    q.add(makePod('p'));
    const p = q.pop()!;
    const cycle = q.cycle;
    q.moveAllOnEvent('NodeAdd'); // a node arrived while the pod was being tried
    q.addUnschedulable(p, cycle, ['NodeResourcesFit']);
    expect(q.where('default/p')).toBe('backoff');
    advance(1000);
    q.flush();
    expect(q.where('default/p')).toBe('active');
  });

  it('retries unschedulable pods after five minutes anyway', () => {
    const { q, advance } = queue();
    q.add(makePod('p'));
    q.addUnschedulable(q.pop()!, q.cycle, ['NodeAffinity']);
    advance(5 * 60_000);
    q.flush();
    expect(q.where('default/p')).toBe('active');
  });

  it('a status-only update does not retry an unschedulable pod; a spec change does', () => {
    const { q, advance } = queue();
    const pod = makePod('p', { cpu: '10' });
    q.add(newPodInfo(pod));
    q.addUnschedulable(q.pop()!, q.cycle, ['NodeResourcesFit']);
    advance(60_000);
    q.update({ ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } });
    expect(q.where('default/p')).toBe('unschedulable');
    q.update({ ...pod, spec: { ...pod.spec!, tolerations: [{ operator: 'Exists' }] } });
    expect(q.where('default/p')).toBe('active');
  });
});
