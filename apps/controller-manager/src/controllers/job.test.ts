import type { Job, Pod } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { job, ownedBy, pod, ts } from './fixtures.test-helpers';
import { backoffDelay, countPods, failureOf, isComplete, JobController, wantActive } from './job';

let h: Harness<JobController>;
afterEach(() => h?.stop());
const setup = () => (h = new Harness((ctx) => new JobController(ctx)));
const jobPod = (name: string, phase?: 'Succeeded' | 'Failed' | 'Running') =>
  pod(name, { 'batch.kubernetes.io/controller-uid': 'uid-pi' }, { ...(phase ? { phase } : {}), metadata: { name, ...ownedBy('Job', 'pi', 'batch/v1') } });

describe('Job counting', () => {
  it.each([
    // completions, parallelism, succeeded → want active
    [5, 2, 0, 2],
    [5, 2, 4, 1],
    [5, 2, 5, 0],
    [undefined, 3, 0, 3],
    [undefined, 3, 1, 0],
  ])('completions %s, parallelism %i, succeeded %i → %i active', (completions, parallelism, succeeded, want) => {
    const j = job('pi', { parallelism, ...(completions === undefined ? { completions: undefined } : { completions }) });
    expect(wantActive(j, succeeded)).toBe(want);
  });

  it('suspend wants nothing running', () => {
    expect(wantActive(job('pi', { suspend: true, parallelism: 3 }), 0)).toBe(0);
  });

  it('counts from pods, never below what status recorded', () => {
    const j = job('pi');
    j.status = { succeeded: 2, failed: 1 };
    const c = countPods(j, [jobPod('a', 'Succeeded'), jobPod('b', 'Failed'), jobPod('c', 'Failed'), jobPod('d')]);
    expect({ active: c.active.length, succeeded: c.succeeded, failed: c.failed }).toEqual({ active: 1, succeeded: 2, failed: 2 });
  });

  it('fails past backoffLimit or activeDeadlineSeconds', () => {
    const j = job('pi', { backoffLimit: 2, activeDeadlineSeconds: 60 });
    const start = ts();
    expect(failureOf(j, 2, start, Date.parse(start) + 1000)).toBeUndefined();
    expect(failureOf(j, 3, start, Date.parse(start))?.reason).toBe('BackoffLimitExceeded');
    expect(failureOf(j, 0, start, Date.parse(start) + 60_000)?.reason).toBe('DeadlineExceeded');
  });

  it('backs off 10 s, 20 s, 40 s ... up to 6 min after failures', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 10_000))).toEqual([0, 10_000, 20_000, 40_000, 360_000]);
  });

  it('is complete at completions, or (no completions) when one succeeded and none runs', () => {
    expect(isComplete(job('pi', { completions: 2 }), { succeeded: 2, active: 0 })).toBe(true);
    expect(isComplete(job('pi', { completions: undefined }), { succeeded: 1, active: 1 })).toBe(false);
    expect(isComplete(job('pi', { completions: undefined }), { succeeded: 1, active: 0 })).toBe(true);
  });
});

describe('Job reconcile', () => {
  it('starts parallelism pods and sets startTime and active', async () => {
    setup();
    h.seed(Resources.jobs, job('pi', { completions: 4, parallelism: 2 }));
    const writes = await h.reconcile('default/pi');
    expect(writes.filter((w) => w.startsWith('create pods/default/pi-'))).toHaveLength(2);
    const j = await h.get<Job>(Resources.jobs, 'default', 'pi');
    expect(j.status).toMatchObject({ active: 2, succeeded: 0, failed: 0, startTime: ts() });
  });

  it('replaces a finished pod until completions, then is Complete with completionTime', async () => {
    setup();
    h.seed(Resources.jobs, job('pi', { completions: 2, parallelism: 1 }));
    h.seed(Resources.pods, jobPod('pi-a', 'Succeeded'));
    const writes = await h.reconcile('default/pi');
    expect(writes.filter((w) => w.startsWith('create pods'))).toHaveLength(1);
    const [created] = (await h.list<Pod>(Resources.pods, 'default')).filter((p) => p.metadata.name !== 'pi-a');
    await h.client.pods('default').updateStatus({ ...created!, status: { phase: 'Succeeded' } });
    h.now += 5000;
    await h.reconcile('default/pi');
    const j = await h.get<Job>(Resources.jobs, 'default', 'pi');
    expect(j.status).toMatchObject({ active: 0, succeeded: 2, failed: 0, completionTime: ts(5000) });
    expect(j.status?.conditions).toEqual([{ type: 'Complete', status: 'True', lastProbeTime: ts(5000), lastTransitionTime: ts(5000) }]);
  });

  it('fails with BackoffLimitExceeded and stops running pods', async () => {
    setup();
    h.seed(Resources.jobs, job('pi', { completions: 3, parallelism: 2, backoffLimit: 1 }));
    h.seed(Resources.pods, jobPod('pi-a', 'Failed'));
    h.seed(Resources.pods, jobPod('pi-b', 'Failed'));
    h.seed(Resources.pods, jobPod('pi-c', 'Running'));
    const writes = await h.reconcile('default/pi');
    expect(writes).toContain('delete pods/default/pi-c');
    const j = await h.get<Job>(Resources.jobs, 'default', 'pi');
    expect(j.status?.conditions?.[0]).toMatchObject({ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' });
    expect(j.status).toMatchObject({ active: 0, failed: 3 });
  });

  it('waits out the back-off before replacing a failed pod', async () => {
    setup();
    h.seed(Resources.jobs, job('pi', { backoffLimit: 3 }));
    h.seed(Resources.pods, jobPod('pi-a', 'Failed'));
    expect((await h.reconcile('default/pi')).filter((w) => w.startsWith('create pods'))).toEqual([]);
    h.now += 10_000;
    expect((await h.reconcile('default/pi')).filter((w) => w.startsWith('create pods'))).toHaveLength(1);
  });

  it('deletes a finished Job once ttlSecondsAfterFinished has passed', async () => {
    setup();
    const j = job('pi', { ttlSecondsAfterFinished: 10 });
    j.status = { completionTime: ts(), conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: ts() }] };
    h.seed(Resources.jobs, j);
    expect(await h.reconcile('default/pi')).toEqual([]);
    h.now += 10_000;
    expect(await h.reconcile('default/pi')).toEqual(['delete jobs/default/pi']);
  });

  it('suspends (pods deleted, Suspended condition, no startTime) and resumes (startTime from then)', async () => {
    setup();
    h.seed(Resources.jobs, job('pi', { completions: 2, parallelism: 2, suspend: true, activeDeadlineSeconds: 60 }));
    expect((await h.reconcile('default/pi')).filter((w) => w.startsWith('create pods'))).toEqual([]);
    let j = await h.get<Job>(Resources.jobs, 'default', 'pi');
    expect(j.status?.startTime).toBeUndefined();
    expect(j.status?.conditions).toEqual([{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: ts(), lastTransitionTime: ts() }]);
    // Long past the deadline, but suspended time does not count.
    h.now += 120_000;
    await h.client.jobs('default').update({ ...j, spec: { ...j.spec!, suspend: false } });
    expect((await h.reconcile('default/pi')).filter((w) => w.startsWith('create pods'))).toHaveLength(2);
    j = await h.get<Job>(Resources.jobs, 'default', 'pi');
    expect(j.status?.startTime).toBe(ts(120_000));
    expect(j.status?.conditions).toEqual([{ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed', lastProbeTime: ts(120_000), lastTransitionTime: ts(120_000) }]);
    // Suspended again: its running pods go.
    await h.client.jobs('default').update({ ...j, spec: { ...j.spec!, suspend: true } });
    expect((await h.reconcile('default/pi')).filter((w) => w.startsWith('delete pods'))).toHaveLength(2);
    // (The recorder folds the repeated Suspended event into one with a count.)
    expect((await h.events()).filter((e) => /Suspended|Resumed/.test(e))).toEqual(['Suspended: Job suspended', 'Resumed: Job resumed']);
  });
});
