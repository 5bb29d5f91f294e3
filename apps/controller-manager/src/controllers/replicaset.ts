// The ReplicaSet controller: keeps `spec.replicas` pods of the template running. It owns
// pods through a controller ownerReference, adopts orphans its selector matches and releases
// pods that stop matching; expectations keep it from counting pods while its own creates and
// deletes are still on their way through the watch. It writes status: replicas,
// fullyLabeledReplicas, readyReplicas, availableReplicas (ready for minReadySeconds) and
// observedGeneration, and the ReplicaFailure condition (FailedCreate / FailedDelete) while
// its writes fail, which the Deployment controller passes on.
import {
  deepCopy,
  deepEqual,
  findCondition,
  isPodActive,
  isPodReady,
  labelSelectorAsQuery,
  objectKey,
  removeCondition,
  setCondition,
  type Pod,
  type ReplicaSet,
  type ReplicaSetStatus,
} from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import { Expectations } from '../runtime/expectations';
import type { Informer } from '../runtime/informer';
import { asOwner, claimPods, ownerKey, podFromTemplate, slowStartBatch } from './pod-control';

/** At most this many creates or deletes per sync, as Kubernetes' burstReplicas. */
const BURST_REPLICAS = 500;

/** When a ready pod became available: Ready for minReadySeconds (0: at once). */
export function podAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = Date.parse(findCondition(pod.status?.conditions, 'Ready')?.lastTransitionTime ?? '');
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now;
}

/**
 * The order pods go in when scaling down (Kubernetes' ActivePods ranking): unscheduled before
 * scheduled, pending before running, not ready before ready, the most recently ready first,
 * more restarts first, newer before older.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const scheduled = (p: Pod) => (p.spec?.nodeName ? 1 : 0);
  const phase = (p: Pod) => ({ Pending: 0, Unknown: 1, Running: 2 })[p.status?.phase as 'Pending'] ?? 0;
  const ready = (p: Pod) => (isPodReady(p) ? 1 : 0);
  const readySince = (p: Pod) => Date.parse(findCondition(p.status?.conditions, 'Ready')?.lastTransitionTime ?? '') || 0;
  const restarts = (p: Pod) => (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
  const created = (p: Pod) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  return (
    scheduled(a) - scheduled(b) ||
    phase(a) - phase(b) ||
    ready(a) - ready(b) ||
    (ready(a) && ready(b) ? readySince(b) - readySince(a) : 0) ||
    restarts(b) - restarts(a) ||
    created(b) - created(a)
  );
}

export function calculateReplicaSetStatus(rs: ReplicaSet, pods: readonly Pod[], now: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const active = pods.filter(isPodActive);
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => podAvailable(p, minReady, now)).length,
    terminatingReplicas: pods.filter((p) => p.metadata.deletionTimestamp !== undefined).length,
  };
  if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;
  if (rs.status?.conditions?.length) status.conditions = rs.status.conditions;
  return status;
}

export class ReplicaSetController extends Controller {
  readonly name = 'replicaset';
  readonly expectations: Expectations;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.expectations = new Expectations(ctx.now);
    this.replicaSets = ctx.informers.for<ReplicaSet>(Resources.replicaSets);
    this.pods = ctx.informers.for<Pod>(Resources.pods);
    this.replicaSets.addHandler({
      add: (rs) => this.enqueue(objectKey(rs)),
      update: (_, rs) => this.enqueue(objectKey(rs)),
      delete: (rs) => {
        this.expectations.forget(objectKey(rs));
        this.enqueue(objectKey(rs));
      },
    });
    this.pods.addHandler({
      add: (pod) => {
        const owner = ownerKey(pod, 'ReplicaSet');
        if (owner) {
          this.expectations.creationObserved(owner);
          this.enqueue(owner);
        } else this.enqueueMatching(pod);
      },
      update: (old, pod) => {
        const owner = ownerKey(pod, 'ReplicaSet');
        const oldOwner = ownerKey(old, 'ReplicaSet');
        // A pod marked for deletion counts as deleted for expectations (it is on its way out).
        if (owner && pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(owner, objectKey(pod));
        if (oldOwner && oldOwner !== owner) this.enqueue(oldOwner);
        if (owner) this.enqueue(owner);
        else this.enqueueMatching(pod);
      },
      delete: (pod) => {
        const owner = ownerKey(pod, 'ReplicaSet');
        if (owner) {
          this.expectations.deletionObserved(owner, objectKey(pod));
          this.enqueue(owner);
        }
      },
    });
  }

  /** An orphan: every ReplicaSet that might adopt it. */
  private enqueueMatching(pod: Pod): void {
    for (const rs of this.replicaSets.list(pod.metadata.namespace)) {
      if (labelSelectorAsQuery(rs.spec?.selector).matches(pod.metadata.labels)) this.enqueue(objectKey(rs));
    }
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.replicaSets.get(key);
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const rs = asOwner(cached, 'apps/v1', 'ReplicaSet');
    const needsSync = this.expectations.satisfied(key);
    const selector = labelSelectorAsQuery(rs.spec?.selector);
    const owned = await claimPods(this.ctx.client, rs, selector, this.pods.list(rs.metadata.namespace));
    const active = owned.filter(isPodActive);
    let failure: unknown;
    let synced = false;
    if (needsSync && rs.metadata.deletionTimestamp === undefined) {
      failure = await this.manageReplicas(key, rs, active);
      synced = true;
    }
    await this.updateStatus(rs, owned, synced ? failure ?? null : undefined);
    if (failure) throw failure;
  }

  private async manageReplicas(key: string, rs: ReplicaSet & { apiVersion: string; kind: string }, active: Pod[]): Promise<unknown> {
    const want = rs.spec?.replicas ?? 1;
    const diff = active.length - want;
    const client = this.ctx.client.pods(rs.metadata.namespace);
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expect(key, count);
      const pod = podFromTemplate(rs.spec?.template, rs, `${rs.metadata.name}-`);
      const result = await slowStartBatch(count, async () => {
        try {
          const created = await client.create(deepCopy(pod));
          this.ctx.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
        } catch (err) {
          this.expectations.creationFailed(key);
          this.ctx.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
          throw err;
        }
      });
      for (let i = 0; i < result.skipped; i++) this.expectations.creationFailed(key);
      return result.error;
    }
    if (diff > 0) {
      const victims = [...active].sort(deletionOrder).slice(0, Math.min(diff, BURST_REPLICAS));
      this.expectations.expect(key, 0, victims.map(objectKey));
      const results = await Promise.allSettled(
        victims.map(async (pod) => {
          try {
            await client.delete(pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } });
            this.ctx.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          } catch (err) {
            // Gone already, or never to be seen deleted: either way stop waiting for it.
            this.expectations.deletionObserved(key, objectKey(pod));
            if (!isNotFound(err)) throw err;
          }
        }),
      );
      return (results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined)?.reason;
    }
    return undefined;
  }

  /** `failure`: the error of this sync's writes, null when they worked, undefined when none were made. */
  private async updateStatus(rs: ReplicaSet, owned: Pod[], failure: unknown): Promise<void> {
    const now = this.ctx.now();
    const status = calculateReplicaSetStatus(rs, owned, now);
    if (failure) {
      const diff = owned.filter(isPodActive).length - (rs.spec?.replicas ?? 1);
      const reason = diff < 0 ? 'FailedCreate' : 'FailedDelete';
      status.conditions = setCondition(status.conditions, { type: 'ReplicaFailure', status: 'True', reason, message: (failure as Error).message }, now);
    } else if (failure === null && status.conditions?.some((c) => c.type === 'ReplicaFailure')) {
      status.conditions = removeCondition(status.conditions, 'ReplicaFailure');
      if (status.conditions.length === 0) delete status.conditions;
    }
    if (!deepEqual(status, rs.status)) {
      try {
        await this.ctx.client.replicaSets(rs.metadata.namespace).updateStatus({ ...deepCopy(rs), status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    // Ready but not yet available pods become available by the clock alone: look again then.
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status.readyReplicas !== status.availableReplicas) this.queue.addAfter(objectKey(rs), minReady * 1000);
  }
}
