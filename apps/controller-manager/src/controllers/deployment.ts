// The Deployment controller: owns ReplicaSets named `<deployment>-<pod-template-hash>`, one
// per pod template revision. RollingUpdate grows the new ReplicaSet and shrinks the old ones
// within maxSurge and maxUnavailable; Recreate scales the old ones to zero and waits for
// their pods to go before creating the new one. It keeps the revision annotation, removes
// old ReplicaSets beyond revisionHistoryLimit, scales proportionally when replicas change in
// mid-rollout, does nothing but scale while paused, and reports status with the Available
// and Progressing conditions (NewReplicaSetAvailable, ReplicaSetUpdated,
// ProgressDeadlineExceeded) exactly where `kubectl rollout status` looks. Rollback is what
// `kubectl rollout undo` does today: it writes an old template back into the Deployment,
// whose ReplicaSet then becomes the new one again with the next revision number.
import {
  controllerRef,
  deepCopy,
  deepEqual,
  formatTime,
  labelSelectorAsQuery,
  newControllerRef,
  objectKey,
  withOwnerReference,
  withoutOwnerReference,
  ApiError,
  type Deployment,
  type Pod,
  type ReplicaSet,
} from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import type { Informer } from '../runtime/informer';
import { asOwner, ownerKey } from './pod-control';
import {
  DesiredReplicasAnnotation,
  MaxReplicasAnnotation,
  PodTemplateHashLabel,
  Reasons,
  RevisionAnnotation,
  calculateStatus,
  computeHash,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  equalIgnoreHash,
  getCondition,
  hasProgressDeadline,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  proportionalSizes,
  removeCondition,
  replicasOf,
  revisionOf,
  setCondition,
  specReplicas,
  availableReplicas,
} from './deployment-util';

type OwnedDeployment = Deployment & { apiVersion: string; kind: string };

const createdAt = (rs: ReplicaSet) => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;
const byCreation = (a: ReplicaSet, b: ReplicaSet) => createdAt(a) - createdAt(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1);

export class DeploymentController extends Controller {
  readonly name = 'deployment';
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.deployments = ctx.informers.for<Deployment>(Resources.deployments);
    this.replicaSets = ctx.informers.for<ReplicaSet>(Resources.replicaSets);
    this.pods = ctx.informers.for<Pod>(Resources.pods);
    this.deployments.addHandler({
      add: (d) => this.enqueue(objectKey(d)),
      update: (_, d) => this.enqueue(objectKey(d)),
      delete: (d) => this.enqueue(objectKey(d)),
    });
    const onReplicaSet = (rs: ReplicaSet) => {
      const owner = ownerKey(rs, 'Deployment');
      if (owner) return this.enqueue(owner);
      // An orphan: whoever might adopt it.
      for (const d of this.deployments.list(rs.metadata.namespace)) {
        if (labelSelectorAsQuery(d.spec?.selector).matches(rs.metadata.labels)) this.enqueue(objectKey(d));
      }
    };
    this.replicaSets.addHandler({
      add: onReplicaSet,
      update: (old, rs) => {
        const oldOwner = ownerKey(old, 'Deployment');
        if (oldOwner && oldOwner !== ownerKey(rs, 'Deployment')) this.enqueue(oldOwner);
        onReplicaSet(rs);
      },
      delete: onReplicaSet,
    });
    // Recreate waits for the old pods to be gone, so their deletion must wake it.
    this.pods.addHandler({
      delete: (pod) => {
        const rsKey = ownerKey(pod, 'ReplicaSet');
        const rs = rsKey ? this.replicaSets.get(rsKey) : undefined;
        const owner = rs ? ownerKey(rs, 'Deployment') : undefined;
        if (owner) this.enqueue(owner);
      },
    });
  }

  private nowTime(): string {
    return formatTime(this.ctx.now());
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.deployments.get(key);
    if (!cached) return;
    let d: OwnedDeployment = asOwner(deepCopy(cached), 'apps/v1', 'Deployment');
    const selector = labelSelectorAsQuery(d.spec?.selector);
    if (selector.isEmpty()) {
      // Selecting every pod in the namespace is refused, as Kubernetes does.
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await this.writeStatus(d, { ...d.status, observedGeneration: d.metadata.generation ?? 0 });
      }
      return;
    }
    const rsList = await this.claimReplicaSets(d, selector);
    if (d.metadata.deletionTimestamp) {
      const { newRS, oldRSs } = this.split(d, rsList);
      return this.syncStatusOnly(d, newRS, oldRSs);
    }
    d = await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.sync(d, rsList);
    if (this.isScalingEvent(d, rsList)) return this.sync(d, rsList);
    if (d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate(d, rsList);
    return this.rolloutRolling(d, rsList);
  }

  // --- ReplicaSet ownership ---

  private async claimReplicaSets(d: OwnedDeployment, selector: ReturnType<typeof labelSelectorAsQuery>): Promise<ReplicaSet[]> {
    const uid = d.metadata.uid!;
    const client = this.ctx.client.replicaSets(d.metadata.namespace);
    const claimed: ReplicaSet[] = [];
    for (const rs of this.replicaSets.list(d.metadata.namespace)) {
      const ref = controllerRef(rs);
      const matches = selector.matches(rs.metadata.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches || d.metadata.deletionTimestamp) claimed.push(rs);
        else await client.update(withoutOwnerReference(deepCopy(rs), uid)).catch(ignoreNotFound);
        continue;
      }
      if (!matches || d.metadata.deletionTimestamp || rs.metadata.deletionTimestamp) continue;
      try {
        claimed.push(await client.update(withOwnerReference(deepCopy(rs), newControllerRef(d))));
      } catch (err) {
        ignoreNotFound(err);
      }
    }
    return claimed;
  }

  /** The ReplicaSet whose template is the Deployment's (the oldest, if several), and the rest. */
  private split(d: Deployment, rsList: ReplicaSet[]): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const sorted = [...rsList].sort(byCreation);
    const newRS = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
  }

  /**
   * The new and old ReplicaSets with revisions brought up to date: the new one gets the
   * highest revision, created when `create` and missing.
   */
  private async getAllReplicaSetsAndSyncRevision(d: OwnedDeployment, rsList: ReplicaSet[], create: boolean): Promise<{ d: OwnedDeployment; newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const { newRS: existing, oldRSs } = this.split(d, rsList);
    const maxOldRevision = Math.max(0, ...oldRSs.map(revisionOf));
    const newRevision = String(maxOldRevision + 1);
    const client = this.ctx.client.replicaSets(d.metadata.namespace);
    let newRS = existing;
    if (existing) {
      const copy = deepCopy(existing);
      const annotations = (copy.metadata.annotations ??= {});
      let changed = false;
      if (revisionOf(existing) < maxOldRevision + 1) {
        annotations[RevisionAnnotation] = newRevision;
        changed = true;
      }
      if ((copy.spec!.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
        copy.spec!.minReadySeconds = d.spec?.minReadySeconds ?? 0;
        changed = true;
      }
      if (changed) newRS = await client.update(copy);
      if (!getCondition(d.status, 'Progressing') && hasProgressDeadline(d)) {
        const status = deepCopy(d.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', Reasons.FoundNewReplicaSet, `Found new replica set "${newRS!.metadata.name}"`, this.nowTime()));
        d = await this.writeStatus(d, status);
      }
    } else if (create) {
      newRS = await this.createNewReplicaSet(d, rsList, newRevision);
      if (!newRS) return { d, newRS: undefined, oldRSs };
      if (hasProgressDeadline(d)) {
        const status = deepCopy(d.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', Reasons.NewReplicaSet, `Created new replica set "${newRS.metadata.name}"`, this.nowTime()));
        d = await this.writeStatus(d, status);
      }
    }
    const revision = newRS ? revisionOf(newRS) : maxOldRevision;
    if (newRS && d.metadata.annotations?.[RevisionAnnotation] !== String(revision)) {
      const copy = deepCopy(d);
      (copy.metadata.annotations ??= {})[RevisionAnnotation] = String(revision);
      d = asOwner(await this.ctx.client.deployments(d.metadata.namespace).update(copy), 'apps/v1', 'Deployment');
    }
    return { d, newRS, oldRSs };
  }

  private async createNewReplicaSet(d: OwnedDeployment, rsList: ReplicaSet[], revision: string): Promise<ReplicaSet | undefined> {
    const collisionCount = d.status?.collisionCount;
    const hash = computeHash(d.spec?.template, collisionCount);
    const template = deepCopy(d.spec!.template);
    const labels = { ...(template.metadata?.labels ?? {}), [PodTemplateHashLabel]: hash };
    template.metadata = { ...template.metadata, labels };
    const selector = deepCopy(d.spec!.selector);
    selector.matchLabels = { ...selector.matchLabels, [PodTemplateHashLabel]: hash };
    const name = `${d.metadata.name}-${hash}`;
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels,
        annotations: {
          ...filterAnnotations(d.metadata.annotations),
          [RevisionAnnotation]: revision,
          [DesiredReplicasAnnotation]: String(replicasOf(d)),
          [MaxReplicasAnnotation]: String(replicasOf(d) + maxSurge(d)),
        },
        ownerReferences: [newControllerRef(d)],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    rs.spec!.replicas = newRSNewReplicas(d, rsList, rs);
    const client = this.ctx.client.replicaSets(d.metadata.namespace);
    try {
      const created = await client.create(rs);
      this.ctx.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${rs.spec!.replicas}`);
      return created;
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      // Ours already (a stale cache), or a hash collision: then bump collisionCount and retry.
      const found = await client.get(name);
      if (controllerRef(found)?.uid === d.metadata.uid && equalIgnoreHash(found.spec?.template, d.spec?.template)) return found;
      await this.writeStatus(d, { ...deepCopy(d.status ?? {}), collisionCount: (collisionCount ?? 0) + 1 });
      throw err;
    }
  }

  // --- scaling ---

  private async scaleReplicaSet(rs: ReplicaSet, size: number, d: Deployment): Promise<ReplicaSet> {
    const copy = deepCopy(rs);
    const annotationsChanged = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
    if ((rs.spec?.replicas ?? 0) === size && !annotationsChanged) return rs;
    copy.spec!.replicas = size;
    const updated = await this.ctx.client.replicaSets(rs.metadata.namespace).update(copy);
    const from = rs.spec?.replicas ?? 0;
    if (from !== size) {
      this.ctx.recorder.event(asOwner(d, 'apps/v1', 'Deployment'), 'Normal', 'ScalingReplicaSet', `Scaled ${size > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${size}`);
    }
    return updated;
  }

  private isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
    const { newRS, oldRSs } = this.split(d, rsList);
    for (const rs of [newRS, ...oldRSs]) {
      if (!rs || (rs.spec?.replicas ?? 0) === 0) continue;
      const desired = rs.metadata.annotations?.[DesiredReplicasAnnotation];
      if (desired !== undefined && desired !== String(replicasOf(d))) return true;
    }
    return false;
  }

  /** Scaling only (paused, or replicas changed): no new ReplicaSet, no rollout step. */
  private async sync(d0: OwnedDeployment, rsList: ReplicaSet[]): Promise<void> {
    const { d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d0, rsList, false);
    const scaled = await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanupDeployment(oldRSs, d);
    const nextNew = newRS ? scaled.find((rs) => rs.metadata.uid === newRS.metadata.uid) : undefined;
    await this.syncDeploymentStatus(scaled, nextNew, d);
  }

  /** Returns the ReplicaSets as they are after scaling. */
  private async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<ReplicaSet[]> {
    const all = [...(newRS ? [newRS] : []), ...oldRSs];
    const active = all.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    const replace = (updated: ReplicaSet) => all.map((rs) => (rs.metadata.uid === updated.metadata.uid ? updated : rs));
    // One active ReplicaSet (or none: the newest) simply takes the Deployment's size.
    let activeOrLatest: ReplicaSet | undefined;
    if (active.length === 0) activeOrLatest = newRS ?? [...oldRSs].sort(byCreation).at(-1);
    else if (active.length === 1) activeOrLatest = active[0];
    if (activeOrLatest) return replace(await this.scaleReplicaSet(activeOrLatest, replicasOf(d), d));
    // The new one is saturated: the old ones go to zero.
    if (newRS && isSaturated(d, newRS)) {
      let result = all;
      for (const rs of oldRSs.filter((r) => (r.spec?.replicas ?? 0) > 0)) {
        const updated = await this.scaleReplicaSet(rs, 0, d);
        result = result.map((r) => (r.metadata.uid === updated.metadata.uid ? updated : r));
      }
      return result;
    }
    if (d.spec?.strategy?.type === 'Recreate') return all;
    const sizes = proportionalSizes(d, active);
    let result = all;
    for (const rs of active) {
      const updated = await this.scaleReplicaSet(rs, sizes.get(rs.metadata.name!) ?? rs.spec?.replicas ?? 0, d);
      result = result.map((r) => (r.metadata.uid === updated.metadata.uid ? updated : r));
    }
    return result;
  }

  // --- RollingUpdate ---

  private async rolloutRolling(d0: OwnedDeployment, rsList: ReplicaSet[]): Promise<void> {
    const { d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d0, rsList, true);
    if (!newRS) return;
    const allRSs = [newRS, ...oldRSs];
    // Scale up first, if we can.
    const want = replicasOf(d);
    const current = newRS.spec?.replicas ?? 0;
    if (current !== want) {
      const size = current > want ? want : newRSNewReplicas(d, allRSs, newRS);
      if (size !== current) {
        const updated = await this.scaleReplicaSet(newRS, size, d);
        return this.syncRolloutStatus([updated, ...oldRSs], updated, d);
      }
    }
    // Then scale down old ReplicaSets, within maxUnavailable.
    const scaledDown = await this.reconcileOldReplicaSets(allRSs, oldRSs, newRS, d);
    if (scaledDown) return this.syncRolloutStatus(scaledDown, newRS, d);
    const status = calculateStatus(allRSs, newRS, d, this.nowTime());
    if (deploymentComplete(d, status)) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, newRS, d);
  }

  /** Returns the ReplicaSets after scaling down, or undefined if nothing changed. */
  private async reconcileOldReplicaSets(allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<ReplicaSet[] | undefined> {
    const oldPodsCount = specReplicas(oldRSs);
    if (oldPodsCount === 0) return undefined;
    const allPodsCount = specReplicas(allRSs);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newRSUnavailable = (newRS.spec?.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPodsCount - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return undefined;
    let changed = false;
    const old = [...oldRSs].sort(byCreation);
    // Unhealthy old replicas go first: they cost no availability.
    let cleaned = 0;
    for (let i = 0; i < old.length; i++) {
      const rs = old[i]!;
      if (cleaned >= maxScaledDown) break;
      const replicas = rs.spec?.replicas ?? 0;
      const available = rs.status?.availableReplicas ?? 0;
      // A status that still counts more available pods than the spec asks for (it lags a
      // scale-down) has nothing unhealthy to clean up; the difference would scale it up,
      // past maxSurge, as Kubernetes refuses to (cleanupUnhealthyReplicas).
      if (replicas === 0 || available >= replicas) continue;
      const n = Math.min(maxScaledDown - cleaned, replicas - available);
      old[i] = await this.scaleReplicaSet(rs, replicas - n, d);
      cleaned += n;
      changed = true;
    }
    // Then healthy ones, as far as availability allows.
    const available = availableReplicas([newRS, ...old]);
    if (available > minAvailable) {
      const total = available - minAvailable;
      let done = 0;
      for (let i = 0; i < old.length; i++) {
        const rs = old[i]!;
        if (done >= total) break;
        const replicas = rs.spec?.replicas ?? 0;
        if (replicas === 0) continue;
        const n = Math.min(replicas, total - done);
        old[i] = await this.scaleReplicaSet(rs, replicas - n, d);
        done += n;
        changed = true;
      }
    }
    return changed ? [newRS, ...old] : undefined;
  }

  // --- Recreate ---

  private async rolloutRecreate(d0: OwnedDeployment, rsList: ReplicaSet[]): Promise<void> {
    let { d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d0, rsList, false);
    const activeOld = oldRSs.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    if (activeOld.length > 0) {
      const updated: ReplicaSet[] = [];
      for (const rs of oldRSs) updated.push((rs.spec?.replicas ?? 0) > 0 ? await this.scaleReplicaSet(rs, 0, d) : rs);
      return this.syncRolloutStatus([...(newRS ? [newRS] : []), ...updated], newRS, d);
    }
    // Wait until no old pod runs: Recreate promises the versions never overlap.
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata.uid));
    const oldPodsRunning = this.pods.list(d.metadata.namespace).some((p) => {
      const ref = controllerRef(p);
      if (!ref || !oldUids.has(ref.uid)) return false;
      return p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';
    });
    if (oldPodsRunning) return this.syncRolloutStatus([...(newRS ? [newRS] : []), ...oldRSs], newRS, d);
    if (!newRS) ({ d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
    if (!newRS) return;
    newRS = await this.scaleReplicaSet(newRS, replicasOf(d), d);
    const all = [newRS, ...oldRSs];
    if (deploymentComplete(d, calculateStatus(all, newRS, d, this.nowTime()))) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(all, newRS, d);
  }

  // --- history ---

  private async cleanupDeployment(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => rs.metadata.deletionTimestamp === undefined);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    const byRevision = [...cleanable].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of byRevision.slice(0, diff)) {
      // Only an old ReplicaSet that is fully scaled down and observed.
      if ((rs.status?.replicas ?? 0) !== 0 || (rs.spec?.replicas ?? 0) !== 0) continue;
      if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      await this.ctx.client.replicaSets(rs.metadata.namespace).delete(rs.metadata.name!, { preconditions: { uid: rs.metadata.uid! } }).catch(ignoreNotFound);
    }
  }

  // --- status ---

  private async checkPausedConditions(d: OwnedDeployment): Promise<OwnedDeployment> {
    if (!hasProgressDeadline(d)) return d;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === Reasons.TimedOut) return d;
    const paused = d.spec?.paused === true;
    const pausedBefore = cond?.reason === Reasons.Paused;
    const status = deepCopy(d.status ?? {});
    if (paused && !pausedBefore) setCondition(status, newCondition('Progressing', 'Unknown', Reasons.Paused, 'Deployment is paused', this.nowTime()));
    else if (!paused && pausedBefore) setCondition(status, newCondition('Progressing', 'Unknown', Reasons.Resumed, 'Deployment is resumed', this.nowTime()));
    else return d;
    return this.writeStatus(d, status);
  }

  private async syncStatusOnly(d: OwnedDeployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    await this.syncDeploymentStatus([...(newRS ? [newRS] : []), ...oldRSs], newRS, d);
  }

  private async syncDeploymentStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined, d: OwnedDeployment): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d, this.nowTime());
    if (!deepEqual(status, d.status)) await this.writeStatus(d, status);
  }

  /** syncRolloutStatus: status plus the Progressing condition, and a look again at the deadline. */
  private async syncRolloutStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined, d: OwnedDeployment): Promise<void> {
    const now = this.nowTime();
    const status = calculateStatus(allRSs, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(status, 'Progressing');
    if (hasProgressDeadline(d) && current?.reason !== Reasons.TimedOut) {
      const rsName = newRS?.metadata.name ?? '';
      if (deploymentComplete(d, status)) {
        const msg = newRS ? `ReplicaSet "${rsName}" has successfully progressed.` : 'Deployment has successfully progressed.';
        setCondition(status, newCondition('Progressing', 'True', Reasons.NewRSAvailable, msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg = newRS ? `ReplicaSet "${rsName}" is progressing.` : 'Deployment is progressing.';
        const cond = newCondition('Progressing', 'True', Reasons.ReplicaSetUpdated, msg, now);
        // Progress moves lastUpdateTime, which the deadline counts from, even with the same reason.
        if (current?.status === 'True') cond.lastTransitionTime = current.lastTransitionTime!;
        removeCondition(status, 'Progressing');
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status, this.ctx.now())) {
        const msg = newRS ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', Reasons.TimedOut, msg, now));
      }
    }
    if (!deepEqual(status, d.status)) d = await this.writeStatus(d, status);
    this.requeueStuckDeployment(d, status);
  }

  /** A rollout that is not moving times out by the clock alone: look again at the deadline. */
  private requeueStuckDeployment(d: Deployment, status: typeof d.status): void {
    const cond = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond || cond.reason === Reasons.TimedOut || cond.reason === Reasons.NewRSAvailable) return;
    if (deploymentComplete(d, status ?? {})) return;
    const from = Date.parse(cond.lastUpdateTime ?? '');
    if (Number.isNaN(from)) return;
    const after = from + d.spec!.progressDeadlineSeconds! * 1000 - this.ctx.now();
    this.queue.addAfter(objectKey(d), Math.max(after, 0) + 1000);
  }

  private async writeStatus(d: OwnedDeployment, status: NonNullable<Deployment['status']>): Promise<OwnedDeployment> {
    const updated = await this.ctx.client.deployments(d.metadata.namespace).updateStatus({ ...d, status });
    return asOwner(updated, 'apps/v1', 'Deployment');
  }
}

function ignoreNotFound(err: unknown): undefined {
  if (!isNotFound(err)) throw err;
  return undefined;
}

/** The Deployment's own annotations a new ReplicaSet inherits (not the controller's or kubectl's). */
function filterAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  const skip = new Set([RevisionAnnotation, DesiredReplicasAnnotation, MaxReplicasAnnotation, 'kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision-history']);
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !skip.has(k)));
}

/** Sets desired-replicas and max-replicas; true when anything changed. */
function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = (rs.metadata.annotations ??= {});
  let changed = false;
  if (annotations[DesiredReplicasAnnotation] !== String(desired)) {
    annotations[DesiredReplicasAnnotation] = String(desired);
    changed = true;
  }
  if (annotations[MaxReplicasAnnotation] !== String(max)) {
    annotations[MaxReplicasAnnotation] = String(max);
    changed = true;
  }
  return changed;
}

/** IsSaturated: the new ReplicaSet has every replica, all available. */
function isSaturated(d: Deployment, rs: ReplicaSet): boolean {
  const desired = rs.metadata.annotations?.[DesiredReplicasAnnotation];
  return (rs.spec?.replicas ?? 0) === replicasOf(d) && desired === String(replicasOf(d)) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}
