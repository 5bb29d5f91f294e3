// The Job controller: runs pods until `completions` succeed (or, without completions, until
// one succeeds and none is left running), at most `parallelism` at a time. Failed pods count
// against backoffLimit; running longer than activeDeadlineSeconds fails the Job; a finished
// Job is deleted ttlSecondsAfterFinished later (its pods go with it through the garbage
// collector). Status: active, ready, succeeded, failed, startTime, completionTime and the
// Complete / Failed conditions. Pods are counted from the pods that exist (Kubernetes'
// legacy tracking, without the batch.kubernetes.io/job-tracking finalizer), never below
// what status already recorded, so a pod deleted after it finished still counts. After a
// failure, replacements wait 10 s, 20 s, 40 s ... (at most 6 min), as Kubernetes backs off.
// An Indexed Job (completionMode: Indexed) runs one pod per index instead (job-indexed.ts).
// spec.suspend stops the pods and the deadline clock, with the Suspended condition.
import {
  deepCopy,
  deepEqual,
  formatTime,
  isPodActive,
  isPodReady,
  labelSelectorAsQuery,
  objectKey,
  type Job,
  type JobCondition,
  type JobStatus,
  type Pod,
} from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import { Expectations } from '../runtime/expectations';
import type { Informer } from '../runtime/informer';
import { formatIndexes, isIndexed, planIndexes, podForIndex } from './job-indexed';
import { asOwner, claimPods, ownerKey, podFromTemplate, slowStartBatch } from './pod-control';

export function isJobFinished(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export interface JobCounts {
  active: Pod[];
  succeeded: number;
  failed: number;
}

/** What the pods say, never less than what status already recorded. */
export function countPods(job: Job, pods: readonly Pod[]): JobCounts {
  return {
    active: pods.filter(isPodActive),
    succeeded: Math.max(job.status?.succeeded ?? 0, pods.filter((p) => p.status?.phase === 'Succeeded').length),
    failed: Math.max(job.status?.failed ?? 0, pods.filter((p) => p.status?.phase === 'Failed').length),
  };
}

/** How many pods should be running now. */
export function wantActive(job: Job, succeeded: number): number {
  if (job.spec?.suspend) return 0;
  const parallelism = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions;
  if (completions === undefined) return succeeded > 0 ? 0 : parallelism;
  return Math.max(0, Math.min(completions - succeeded, parallelism));
}

/** Why the Job has failed, if it has: too many failures, or past its deadline. */
export function failureOf(job: Job, failed: number, startTime: string | undefined, now: number): { reason: string; message: string } | undefined {
  if (failed > (job.spec?.backoffLimit ?? 6)) return { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  const deadline = job.spec?.activeDeadlineSeconds;
  // A suspended Job's deadline clock is stopped (and restarts from its resume).
  if (deadline !== undefined && !job.spec?.suspend && startTime && Date.parse(startTime) + deadline * 1000 <= now) {
    return { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
  }
  return undefined;
}

/** How long after the latest failure a replacement may start (the pod failure back-off). */
export function backoffDelay(failures: number, baseMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(baseMs * 2 ** (failures - 1), 6 * 60_000);
}

export function isComplete(job: Job, counts: { succeeded: number; active: number }): boolean {
  const completions = job.spec?.completions;
  return completions === undefined ? counts.succeeded > 0 && counts.active === 0 : counts.succeeded >= completions;
}

export class JobController extends Controller {
  readonly name = 'job';
  readonly expectations: Expectations;
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  /** Per Job: the failure count last seen and when we saw it grow (our clock). */
  private readonly lastFailure = new Map<string, { failed: number; at: number }>();

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.expectations = new Expectations(ctx.now);
    this.jobs = ctx.informers.for<Job>(Resources.jobs);
    this.pods = ctx.informers.for<Pod>(Resources.pods);
    this.jobs.addHandler({
      add: (j) => this.enqueue(objectKey(j)),
      update: (_, j) => this.enqueue(objectKey(j)),
      delete: (j) => {
        this.expectations.forget(objectKey(j));
        this.lastFailure.delete(objectKey(j));
      },
    });
    this.pods.addHandler({
      add: (pod) => {
        const owner = ownerKey(pod, 'Job');
        if (owner) {
          this.expectations.creationObserved(owner);
          this.enqueue(owner);
        }
      },
      update: (old, pod) => {
        const owner = ownerKey(pod, 'Job');
        if (owner && pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(owner, objectKey(pod));
        if (owner) this.enqueue(owner);
      },
      delete: (pod) => {
        const owner = ownerKey(pod, 'Job');
        if (owner) {
          this.expectations.deletionObserved(owner, objectKey(pod));
          this.enqueue(owner);
        }
      },
    });
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const job = asOwner(deepCopy(cached), 'batch/v1', 'Job');
    const now = this.ctx.now();
    if (isJobFinished(job)) return this.handleTtl(job, now);
    const pods = await claimPods(this.ctx.client, job, labelSelectorAsQuery(job.spec?.selector), this.pods.list(job.metadata.namespace));
    const counts = countPods(job, pods);
    const indexed = isIndexed(job) ? planIndexes(job, pods) : undefined;
    if (indexed) {
      // Succeeded counts indexes, not pods: a second success for one index adds nothing.
      counts.succeeded = indexed.succeeded.size;
      counts.active = indexed.active;
    }
    const status: JobStatus = deepCopy(job.status ?? {});
    if (indexed) {
      const completed = formatIndexes(indexed.succeeded);
      if (completed) status.completedIndexes = completed;
      else delete status.completedIndexes;
    }
    const nowTime = formatTime(now);
    this.trackSuspension(job, status, nowTime);
    const failure = failureOf(job, counts.failed, status.startTime, now);
    let active = counts.active;
    let failed = counts.failed;
    let error: unknown;
    let created = 0;
    if (failure) {
      this.ctx.recorder.event(job, 'Warning', failure.reason, failure.message);
      // A failed Job stops what still runs; those pods count as failed too.
      await this.deletePods(key, [...active, ...(indexed?.excess ?? [])]);
      failed += active.length;
      active = [];
      status.conditions = [...(status.conditions ?? []), { type: 'Failed', status: 'True', reason: failure.reason, message: failure.message, lastProbeTime: nowTime, lastTransitionTime: nowTime }];
    } else if (isComplete(job, { succeeded: counts.succeeded, active: active.length })) {
      await this.deletePods(key, [...active, ...(indexed?.excess ?? [])]);
      active = [];
      status.completionTime = nowTime;
      this.ctx.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      status.conditions = [...(status.conditions ?? []), { type: 'Complete', status: 'True', lastProbeTime: nowTime, lastTransitionTime: nowTime }];
    } else if (this.expectations.satisfied(key)) {
      const want = wantActive(job, counts.succeeded);
      if (indexed && indexed.excess.length > 0) {
        // Duplicates for an index, pods for a finished index or without one: these go first.
        await this.deletePods(key, indexed.excess);
      } else if (active.length > want) {
        const extra = [...active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))).slice(0, active.length - want);
        await this.deletePods(key, extra);
        active = active.filter((p) => !extra.includes(p));
      } else if (active.length < want) {
        const wait = this.backoffRemaining(key, counts.failed, now);
        if (wait > 0) this.queue.addAfter(key, wait);
        else {
          const template = podFromTemplate(job.spec?.template, job, `${job.metadata.name}-`);
          const pods = indexed
            ? indexed.missing.slice(0, want - active.length).map((i) => podForIndex(template, job, i))
            : Array.from({ length: want - active.length }, () => template);
          ({ created, error } = await this.createPods(key, job, pods));
        }
      }
    }
    // Pods just created count as active, as Kubernetes reports them, before the watch shows them.
    status.active = active.length + created;
    status.ready = active.filter(isPodReady).length;
    status.succeeded = counts.succeeded;
    status.failed = failed;
    if (!deepEqual(status, job.status)) {
      try {
        await this.ctx.client.jobs(job.metadata.namespace).updateStatus({ ...job, status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (error) throw error;
    const finished = status.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (finished) this.scheduleTtl(job, now);
    else if (job.spec?.activeDeadlineSeconds !== undefined && status.startTime && !job.spec.suspend) {
      this.queue.addAfter(key, Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now + 10);
    }
  }

  /**
   * spec.suspend as Kubernetes reports it: a Suspended condition (True, JobSuspended) while
   * suspended, False with JobResumed after; startTime is set only once the Job runs, and reset
   * on resume, so activeDeadlineSeconds counts running time since then.
   */
  private trackSuspension(job: Job, status: JobStatus, nowTime: string): void {
    const suspended = job.spec?.suspend === true;
    const current = status.conditions?.find((c) => c.type === 'Suspended');
    const set = (c: JobCondition) => (status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== 'Suspended'), c]);
    if (suspended && current?.status !== 'True') {
      set({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: nowTime, lastTransitionTime: nowTime });
      this.ctx.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
    } else if (!suspended && current?.status === 'True') {
      set({ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed', lastProbeTime: nowTime, lastTransitionTime: nowTime });
      this.ctx.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
      status.startTime = nowTime;
    }
    if (!suspended) status.startTime ??= nowTime;
  }

  /** How long until a replacement may start: the back-off counts from when we saw the latest failure. */
  private backoffRemaining(key: string, failed: number, now: number): number {
    if (failed === 0) return 0;
    const seen = this.lastFailure.get(key);
    if (!seen || failed > seen.failed) this.lastFailure.set(key, { failed, at: now });
    const { at } = this.lastFailure.get(key)!;
    return at + backoffDelay(failed, this.ctx.config.jobBackoffBaseMs ?? 10_000) - now;
  }

  private async createPods(key: string, job: Job, pods: Pod[]): Promise<{ created: number; error: unknown }> {
    this.expectations.expect(key, pods.length);
    const client = this.ctx.client.pods(job.metadata.namespace);
    let next = 0;
    const result = await slowStartBatch(pods.length, async () => {
      try {
        const created = await client.create(deepCopy(pods[next++]!));
        this.ctx.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      } catch (err) {
        this.expectations.creationFailed(key);
        this.ctx.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        throw err;
      }
    });
    for (let i = 0; i < result.skipped; i++) this.expectations.creationFailed(key);
    return { created: result.done, error: result.error };
  }

  private async deletePods(key: string, pods: Pod[]): Promise<void> {
    if (pods.length === 0) return;
    this.expectations.expect(key, 0, pods.map(objectKey));
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.ctx.client.pods(pod.metadata.namespace).delete(pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } });
        } catch (err) {
          this.expectations.deletionObserved(key, objectKey(pod));
          if (!isNotFound(err)) throw err;
        }
      }),
    );
  }

  /** When a finished Job's TTL runs out, or undefined without a TTL. */
  private expiresAt(job: Job): number | undefined {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined) return undefined;
    const finished = job.status?.completionTime ?? isJobFinished(job)?.lastTransitionTime;
    const at = Date.parse(finished ?? '');
    return Number.isNaN(at) ? undefined : at + ttl * 1000;
  }

  private scheduleTtl(job: Job, now: number): void {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl !== undefined) this.queue.addAfter(objectKey(job), ttl * 1000 + 10 - (now % 1000));
  }

  private async handleTtl(job: Job, now: number): Promise<void> {
    const at = this.expiresAt(job);
    if (at === undefined || job.metadata.deletionTimestamp) return;
    if (at > now) return this.queue.addAfter(objectKey(job), at - now + 10);
    try {
      await this.ctx.client.jobs(job.metadata.namespace).delete(job.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid! } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
