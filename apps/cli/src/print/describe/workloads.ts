// `keel describe` for the workload controllers: Deployment (replica counts, strategy, its
// old and new ReplicaSets), ReplicaSet (replicas and its pods' phases) and Job (completions,
// times, pod counts), each with kubectl's Pod Template section.
import type { Deployment, Job, Pod, ReplicaSet } from '@keel/api';
import { sortKeys } from '../objects';
import { LEVEL, annotationLines, controllerOf, labelLines, rfc1123z, selectorText } from './common';
import { podTemplateLines } from './containers';
import { shortDuration } from './duration';

const TEMPLATE_HASH = 'pod-template-hash';

function ownedBy(uid: string | undefined, o: { metadata?: { ownerReferences?: { uid?: string; controller?: boolean }[] } }): boolean {
  return !!uid && !!o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);
}

/** A template as JSON without the pod-template-hash label the controller adds to its ReplicaSets'. */
function templateKey(t: unknown): string {
  const copy = JSON.parse(JSON.stringify(t ?? {})) as { metadata?: { labels?: Record<string, string> } };
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[TEMPLATE_HASH];
    if (!Object.keys(copy.metadata.labels).length) delete copy.metadata.labels;
  }
  if (copy.metadata && !Object.keys(copy.metadata).length) delete copy.metadata;
  return JSON.stringify(sortKeys(copy));
}

/**
 * The Deployment's ReplicaSets split as kubectl does: the new one has the Deployment's pod
 * template (ignoring pod-template-hash); every other one it controls is old.
 */
export function splitReplicaSets(d: Deployment, replicaSets: ReplicaSet[]): { old: ReplicaSet[]; current: ReplicaSet | undefined } {
  const owned = replicaSets.filter((rs) => ownedBy(d.metadata?.uid, rs));
  const want = templateKey(d.spec?.template);
  const candidates = owned.filter((rs) => templateKey(rs.spec?.template) === want);
  // Two with the same template: the oldest is the one the controller keeps using.
  const current = candidates.sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''))[0];
  return { old: owned.filter((rs) => rs !== current), current };
}

function replicaSetsText(list: ReplicaSet[]): string {
  return list.map((rs) => `${rs.metadata?.name ?? ''} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 1} replicas created)`).join(', ') || '<none>';
}

function conditionTable(conditions: { type: string; status: string; reason?: string }[] | undefined): string[] {
  if (!conditions?.length) return [];
  return ['Conditions:', '  Type\tStatus\tReason', `${LEVEL(1)}----\t------\t------`, ...conditions.map((c) => `${LEVEL(1)}${c.type} \t${c.status}\t${c.reason ?? ''}`)];
}

export function describeDeployment(d: Deployment, replicaSets: ReplicaSet[] | undefined): string[] {
  const md = d.metadata ?? {};
  const spec = d.spec;
  const st = d.status ?? {};
  const out = [`Name:\t${md.name ?? ''}`, `Namespace:\t${md.namespace ?? ''}`, `CreationTimestamp:\t${rfc1123z(md.creationTimestamp)}`];
  out.push(...labelLines('Labels', md.labels), ...annotationLines('Annotations', md.annotations));
  out.push(`Selector:\t${selectorText(spec?.selector)}`);
  out.push(`Replicas:\t${spec?.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable`);
  out.push(`StrategyType:\t${spec?.strategy?.type ?? ''}`, `MinReadySeconds:\t${spec?.minReadySeconds ?? 0}`);
  const ru = spec?.strategy?.rollingUpdate;
  if (ru) out.push(`RollingUpdateStrategy:\t${String(ru.maxUnavailable ?? '25%')} max unavailable, ${String(ru.maxSurge ?? '25%')} max surge`);
  out.push(...podTemplateLines(spec?.template), ...conditionTable(st.conditions));
  if (replicaSets) {
    const { old, current } = splitReplicaSets(d, replicaSets);
    if (old.length || current) out.push(`OldReplicaSets:\t${replicaSetsText(old)}`, `NewReplicaSet:\t${replicaSetsText(current ? [current] : [])}`);
  }
  return out;
}

/** Running / Waiting / Succeeded / Failed counts of the pods this controller owns. */
export function podPhases(ownerUid: string | undefined, pods: Pod[]): string {
  const n = { Running: 0, Pending: 0, Succeeded: 0, Failed: 0 } as Record<string, number>;
  for (const p of pods) if (ownedBy(ownerUid, p) && p.status?.phase && p.status.phase in n) n[p.status.phase]!++;
  return `${n['Running']} Running / ${n['Pending']} Waiting / ${n['Succeeded']} Succeeded / ${n['Failed']} Failed`;
}

/** `pods` are those its selector matches, or an error text when they could not be listed. */
export function describeReplicaSet(rs: ReplicaSet, pods: Pod[] | string): string[] {
  const md = rs.metadata ?? {};
  const out = [`Name:\t${md.name ?? ''}`, `Namespace:\t${md.namespace ?? ''}`, `Selector:\t${selectorText(rs.spec?.selector)}`];
  out.push(...labelLines('Labels', md.labels), ...annotationLines('Annotations', md.annotations));
  const controller = controllerOf(md);
  if (controller) out.push(`Controlled By:\t${controller}`);
  out.push(`Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired`);
  out.push(`Pods Status:\t${typeof pods === 'string' ? `error in fetching pods: ${pods}` : podPhases(md.uid, pods)}`);
  out.push(...podTemplateLines(rs.spec?.template), ...conditionTable(rs.status?.conditions));
  return out;
}

export function describeJob(job: Job): string[] {
  const md = job.metadata ?? {};
  const spec = job.spec;
  const st = job.status ?? {};
  const out = [`Name:\t${md.name ?? ''}`, `Namespace:\t${md.namespace ?? ''}`, `Selector:\t${selectorText(spec?.selector)}`];
  out.push(...labelLines('Labels', md.labels), ...annotationLines('Annotations', md.annotations));
  const controller = controllerOf(md);
  if (controller) out.push(`Controlled By:\t${controller}`);
  if (spec?.parallelism !== undefined) out.push(`Parallelism:\t${spec.parallelism}`);
  out.push(`Completions:\t${spec?.completions ?? '<unset>'}`);
  if (spec?.completionMode) out.push(`Completion Mode:\t${spec.completionMode}`);
  if (spec?.suspend !== undefined) out.push(`Suspend:\t${spec.suspend}`);
  if (spec?.backoffLimit !== undefined) out.push(`Backoff Limit:\t${spec.backoffLimit}`);
  if (spec?.ttlSecondsAfterFinished !== undefined) out.push(`TTL Seconds After Finished:\t${spec.ttlSecondsAfterFinished}`);
  if (st.startTime) out.push(`Start Time:\t${rfc1123z(st.startTime)}`);
  if (st.completionTime) out.push(`Completed At:\t${rfc1123z(st.completionTime)}`);
  if (st.startTime && st.completionTime) out.push(`Duration:\t${shortDuration(Date.parse(st.completionTime) - Date.parse(st.startTime))}`);
  if (spec?.activeDeadlineSeconds !== undefined) out.push(`Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s`);
  const ready = st.ready === undefined ? '' : ` (${st.ready} Ready)`;
  out.push(`Pods Statuses:\t${st.active ?? 0} Active${ready} / ${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed`);
  if (spec?.completionMode === 'Indexed') {
    const idx = st.completedIndexes ?? '';
    const cut = idx.indexOf(',', 50);
    out.push(`Completed Indexes:\t${!idx ? '<none>' : cut < 0 ? idx : `${idx.slice(0, cut + 1)}...`}`);
  }
  out.push(...podTemplateLines(spec?.template));
  return out;
}
