// The Deployment controller's arithmetic, pure and in Kubernetes' own terms (deployment/util):
// maxSurge and maxUnavailable resolved against replicas (surge rounds up, unavailable down,
// never both zero), how far the new ReplicaSet may grow, proportional scaling of several
// ReplicaSets, the pod-template-hash, the revision annotations and the status conditions
// `kubectl rollout status` reads.
import {
  deepCopy,
  deepEqual,
  scaledValueFromIntOrPercent,
  type Deployment,
  type DeploymentCondition,
  type DeploymentStatus,
  type PodTemplateSpec,
  type ReplicaSet,
} from '@keel/api';

export const RevisionAnnotation = 'deployment.kubernetes.io/revision';
export const DesiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const MaxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
export const PodTemplateHashLabel = 'pod-template-hash';

export const Reasons = {
  NewReplicaSet: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  NewRSAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  Paused: 'DeploymentPaused',
  Resumed: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export const replicasOf = (d: { spec?: { replicas?: number } } | undefined): number => d?.spec?.replicas ?? 0;

/** maxSurge and maxUnavailable as counts; if both come out 0, unavailable is 1 so a rollout can move. */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValueFromIntOrPercent(maxSurge ?? 0, desired, true);
  let unavailable = scaledValueFromIntOrPercent(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

const isRolling = (d: Deployment) => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxSurge(d: Deployment): number {
  if (!isRolling(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge ?? '25%', ru?.maxUnavailable ?? '25%', replicasOf(d)).surge;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRolling(d) || replicasOf(d) === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge ?? '25%', ru?.maxUnavailable ?? '25%', replicasOf(d));
  return Math.min(unavailable, replicasOf(d));
}

const sum = (rss: readonly (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number) => rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);
export const specReplicas = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, (rs) => rs.spec?.replicas ?? 0);
export const actualReplicas = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, (rs) => rs.status?.replicas ?? 0);
export const readyReplicas = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, (rs) => rs.status?.readyReplicas ?? 0);
export const availableReplicas = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, (rs) => rs.status?.availableReplicas ?? 0);

/** The replicas the new ReplicaSet should have now (NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): number {
  if (!isRolling(d)) return replicasOf(d);
  const current = newRS?.spec?.replicas ?? 0;
  const currentPodCount = specReplicas(allRSs);
  const maxTotalPods = replicasOf(d) + maxSurge(d);
  if (currentPodCount >= maxTotalPods) return current;
  const scaleUpCount = Math.min(maxTotalPods - currentPodCount, replicasOf(d) - current);
  return current + scaleUpCount;
}

/** Go's math.Round: halves away from zero. */
const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

function annotationInt(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** How much of `deploymentReplicasToAdd` this ReplicaSet takes (GetProportion). */
export function getProportion(rs: ReplicaSet, d: Deployment, deploymentReplicasToAdd: number, deploymentReplicasAdded: number): number {
  const replicas = rs.spec?.replicas ?? 0;
  if (replicas === 0 || deploymentReplicasToAdd === 0 || deploymentReplicasToAdd === deploymentReplicasAdded) return 0;
  let fraction: number;
  if (replicasOf(d) === 0) fraction = -replicas;
  else {
    const deploymentReplicas = replicasOf(d) + maxSurge(d);
    const annotated = annotationInt(rs, MaxReplicasAnnotation) ?? d.status?.replicas ?? 0;
    fraction = annotated === 0 ? 0 : roundHalfAway((replicas * deploymentReplicas) / annotated) - replicas;
  }
  const allowed = deploymentReplicasToAdd - deploymentReplicasAdded;
  return deploymentReplicasToAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * New sizes when a rolling Deployment is scaled in the middle of a rollout: the extra (or
 * missing) replicas are spread over the active ReplicaSets in proportion to their size, the
 * remainder going to the largest (newest on ties when growing, oldest when shrinking).
 */
export function proportionalSizes(d: Deployment, activeRSs: readonly ReplicaSet[]): Map<string, number> {
  const allRSsReplicas = specReplicas(activeRSs);
  const allowedSize = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowedSize - allRSsReplicas;
  const created = (rs: ReplicaSet) => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;
  const sorted = [...activeRSs].sort((a, b) => {
    const bySize = (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0);
    if (bySize !== 0) return bySize;
    return toAdd > 0 ? created(b) - created(a) : created(a) - created(b);
  });
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of sorted) {
    const proportion = getProportion(rs, d, toAdd, added);
    sizes.set(rs.metadata.name!, (rs.spec?.replicas ?? 0) + proportion);
    added += proportion;
  }
  if (sorted.length > 0) {
    const first = sorted[0]!.metadata.name!;
    sizes.set(first, Math.max(0, sizes.get(first)! + toAdd - added));
  }
  return sizes;
}

// --- the pod-template-hash ---

/**
 * A template as Kubernetes' semantic equality sees it: Go decodes `null` into a zero value,
 * and treats empty and missing maps and slices alike, so `creationTimestamp: null` and
 * `resources: {}` (which kubectl sends back in `rollout undo`) are no fields at all.
 */
export function semanticForm<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(semanticForm) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const s = semanticForm(v);
    if (s === null || s === undefined) continue;
    if (typeof s === 'object' && (Array.isArray(s) ? s.length === 0 : Object.keys(s).length === 0)) continue;
    out[k] = s;
  }
  return out as T;
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function fnv32a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The alphabet of Kubernetes' rand.SafeEncodeString: no vowels, no confusable digits. */
const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * ComputeHash: FNV-32a of the template (with the collision count mixed in) encoded as
 * Kubernetes does, so names look like `web-7d9f8c6b5`. The template is hashed as canonical
 * JSON, so the values differ from Kubernetes' but are stable across processes.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let text = canonicalJson(semanticForm(template ?? {}));
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  return [...String(fnv32a(text))].map((c) => safeAlphabet[c.charCodeAt(0) % safeAlphabet.length]).join('');
}

/** Whether two templates are the same apart from the pod-template-hash label (EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined) => {
    const copy = semanticForm(deepCopy(t ?? {}));
    if (copy.metadata?.labels) {
      delete copy.metadata.labels[PodTemplateHashLabel];
      if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
    }
    return copy;
  };
  return deepEqual(strip(a), strip(b));
}

export function revisionOf(rs: ReplicaSet | Deployment): number {
  const v = rs.metadata.annotations?.[RevisionAnnotation];
  return v && /^\d+$/.test(v) ? Number(v) : 0;
}

// --- conditions ---

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: string): DeploymentCondition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/**
 * SetDeploymentCondition: the same status and reason is no change at all (times kept);
 * the same status with another reason keeps lastTransitionTime.
 */
export function setCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime!;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  const rest = (status.conditions ?? []).filter((c) => c.type !== type);
  if (rest.length > 0) status.conditions = rest;
  else delete status.conditions;
}

export const hasProgressDeadline = (d: Deployment) => d.spec?.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== 2147483647;

/** DeploymentComplete: every replica updated and available, and no old ones left running. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return (
    (status.updatedReplicas ?? 0) === want &&
    (status.replicas ?? 0) === want &&
    (status.availableReplicas ?? 0) === want &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** DeploymentProgressing: anything moved forward since the last status. */
export function deploymentProgressing(d: Deployment, next: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (next.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: Progressing has not moved for progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, 'Progressing');
  if (!cond) return false;
  if (cond.reason === Reasons.NewRSAvailable) return false;
  if (cond.reason === Reasons.TimedOut) return true;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + d.spec!.progressDeadlineSeconds! * 1000 < now;
}

/** calculateStatus: counts from the ReplicaSets, and the Available condition. */
export function calculateStatus(allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment, now: string): DeploymentStatus {
  const available = availableReplicas(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: actualReplicas(allRSs),
    updatedReplicas: actualReplicas([newRS]),
    readyReplicas: readyReplicas(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(specReplicas(allRSs) - available, 0),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions) status.conditions = deepCopy(d.status.conditions);
  // getReplicaFailures: a ReplicaSet that cannot create its pods says so on the Deployment.
  const failure = [newRS, ...allRSs].map((rs) => rs?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True')).find(Boolean);
  if (failure) setCondition(status, newCondition('ReplicaFailure', 'True', failure.reason ?? 'FailedCreate', failure.message ?? '', now));
  else removeCondition(status, 'ReplicaFailure');
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', Reasons.MinimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', Reasons.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}
