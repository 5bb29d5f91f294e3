// Indexed Jobs: index ranges, the per-index plan, the pod an index gets, and the Job
// controller running one pod per index until every index has succeeded.
import type { Job, Pod } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { job, ownedBy, pod } from './fixtures.test-helpers';
import { JobController } from './job';
import { completionIndex, formatIndexes, JobCompletionIndexAnnotation, parseIndexes, planIndexes, podForIndex } from './job-indexed';

const indexedPod = (name: string, index: string | undefined, phase?: 'Succeeded' | 'Failed' | 'Running') =>
  pod(
    name,
    { 'batch.kubernetes.io/controller-uid': 'uid-pi' },
    {
      ...(phase ? { phase } : {}),
      metadata: { name, ...(index !== undefined ? { annotations: { [JobCompletionIndexAnnotation]: index } } : {}), ...ownedBy('Job', 'pi', 'batch/v1') },
    },
  );

describe('completion indexes', () => {
  it('formats and parses completedIndexes as Kubernetes writes them', () => {
    expect(formatIndexes([5, 0, 1, 2, 7, 8, 2])).toBe('0-2,5,7-8');
    expect(formatIndexes([])).toBe('');
    expect([...parseIndexes('0-2,5,7-8', 8)].sort()).toEqual([0, 1, 2, 5, 7]);
    expect([...parseIndexes('x,3', 5)]).toEqual([3]);
  });

  it('reads a pod’s index only when it is a whole number', () => {
    expect(completionIndex(indexedPod('a', '3'))).toBe(3);
    expect(completionIndex(indexedPod('a', '03'))).toBeUndefined();
    expect(completionIndex(indexedPod('a', '-1'))).toBeUndefined();
    expect(completionIndex(indexedPod('a', undefined))).toBeUndefined();
  });

  it('keeps one active pod per unfinished index and lists the missing ones', () => {
    const j = job('pi', { completions: 5, completionMode: 'Indexed' });
    j.status = { completedIndexes: '4' };
    const plan = planIndexes(j, [
      indexedPod('a', '0', 'Succeeded'),
      indexedPod('b', '1', 'Running'),
      indexedPod('c', '1', 'Running'),
      indexedPod('d', '0', 'Running'),
      indexedPod('e', '9', 'Running'),
      indexedPod('f', undefined, 'Running'),
      indexedPod('g', '2', 'Failed'),
    ]);
    expect([...plan.succeeded].sort()).toEqual([0, 4]);
    expect(plan.active.map((p) => p.metadata.name)).toHaveLength(1);
    expect(plan.excess.map((p) => p.metadata.name).sort()).toEqual(['d', 'e', 'f', plan.active[0]!.metadata.name === 'b' ? 'c' : 'b'].sort());
    expect(plan.missing).toEqual([2, 3]);
  });

  it('gives the pod of an index its annotation, label, env, hostname and name prefix', () => {
    const j = job('pi', { completions: 3, completionMode: 'Indexed' });
    const template: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'pi-', labels: { app: 'pi' } },
      spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A', value: '1' }] }] },
    };
    const p = podForIndex(template, j, 2);
    expect(p.metadata.generateName).toBe('pi-2-');
    expect(p.metadata.annotations?.[JobCompletionIndexAnnotation]).toBe('2');
    expect(p.metadata.labels).toEqual({ app: 'pi', [JobCompletionIndexAnnotation]: '2' });
    expect(p.spec?.hostname).toBe('pi-2');
    const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JobCompletionIndexAnnotation}']` } } };
    expect(p.spec?.containers[0]?.env).toEqual([{ name: 'A', value: '1' }, env]);
    expect(p.spec?.initContainers?.[0]?.env).toEqual([env]);
    expect(template.metadata.annotations).toBeUndefined();
  });
});

describe('Indexed Job reconcile', () => {
  let h: Harness<JobController>;
  afterEach(() => h?.stop());

  it('runs the lowest missing indexes, records completedIndexes, and completes when every index succeeded', async () => {
    h = new Harness((ctx) => new JobController(ctx));
    h.seed(Resources.jobs, job('pi', { completions: 3, parallelism: 2, completionMode: 'Indexed' }));
    await h.reconcile('default/pi');
    let pods = await h.list<Pod>(Resources.pods, 'default');
    expect(pods.map(completionIndex).sort()).toEqual([0, 1]);
    expect(pods.every((p) => p.metadata.name!.startsWith(`pi-${completionIndex(p)}-`))).toBe(true);
    // Index 1 succeeds: index 2 starts; index 0 still runs.
    const one = pods.find((p) => completionIndex(p) === 1)!;
    await h.client.pods('default').updateStatus({ ...one, status: { phase: 'Succeeded' } });
    await h.reconcile('default/pi');
    pods = await h.list<Pod>(Resources.pods, 'default');
    expect(pods.filter((p) => p.status?.phase !== 'Succeeded').map(completionIndex).sort()).toEqual([0, 2]);
    let j = await h.get<Job>(Resources.jobs, 'default', 'pi');
    expect(j.status).toMatchObject({ active: 2, succeeded: 1, completedIndexes: '1' });
    for (const p of pods.filter((x) => x.status?.phase !== 'Succeeded')) await h.client.pods('default').updateStatus({ ...p, status: { phase: 'Succeeded' } });
    await h.reconcile('default/pi');
    j = await h.get<Job>(Resources.jobs, 'default', 'pi');
    expect(j.status).toMatchObject({ active: 0, succeeded: 3, completedIndexes: '0-2' });
    expect(j.status?.conditions?.[0]).toMatchObject({ type: 'Complete', status: 'True' });
  });

  it('deletes a second pod of one index before creating anything', async () => {
    h = new Harness((ctx) => new JobController(ctx));
    h.seed(Resources.jobs, job('pi', { completions: 2, parallelism: 2, completionMode: 'Indexed' }));
    h.seed(Resources.pods, indexedPod('pi-0-a', '0', 'Running'));
    h.seed(Resources.pods, indexedPod('pi-0-b', '0', 'Running'));
    const writes = await h.reconcile('default/pi');
    expect(writes.filter((w) => w.startsWith('delete pods/default/pi-0-'))).toHaveLength(1);
    expect(writes.filter((w) => w.startsWith('create pods'))).toEqual([]);
  });
});
