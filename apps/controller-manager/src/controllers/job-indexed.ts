// Indexed Jobs (completionMode: Indexed): each of the `completions` indexes 0..n-1 must have one
// pod succeed. A pod carries its index in the `batch.kubernetes.io/job-completion-index`
// annotation and label, sees it as JOB_COMPLETION_INDEX (downward API from the annotation), and
// is named `<job>-<index>-…` with hostname `<job>-<index>`. Status lists the succeeded indexes as
// ranges in completedIndexes ("0-2,5"); succeeded counts them. Pure: the Job controller asks
// what to create and delete and writes it.
import { deepCopy, isPodActive, isPodReady, type Container, type Job, type Pod } from '@keel/api';

export const JobCompletionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
export const JobCompletionIndexEnv = 'JOB_COMPLETION_INDEX';

export function isIndexed(job: Job): boolean {
  return job.spec?.completionMode === 'Indexed' && job.spec.completions !== undefined;
}

/** The pod's completion index, or undefined when it has none or it is not a whole number. */
export function completionIndex(pod: Pod): number | undefined {
  const text = pod.metadata.annotations?.[JobCompletionIndexAnnotation] ?? pod.metadata.labels?.[JobCompletionIndexAnnotation];
  if (text === undefined || !/^(0|[1-9]\d*)$/.test(text)) return undefined;
  return Number(text);
}

/** "1,3-5,7" → {1,3,4,5,7}, keeping only indexes below `completions`; malformed parts are skipped. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = Math.min(m[2] === undefined ? from : Number(m[2]), completions - 1);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return out;
}

/** Indexes as Kubernetes writes completedIndexes: ascending, consecutive runs as `a-b`. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export interface IndexedPlan {
  /** Indexes with a succeeded pod, now or recorded in status before. */
  succeeded: Set<number>;
  /** Active pods to keep: one per index that has not succeeded. */
  active: Pod[];
  /** Active pods to delete: a second pod for an index, an index already succeeded, or no valid index. */
  excess: Pod[];
  /** Indexes with neither a success nor an active pod, lowest first. */
  missing: number[];
}

export function planIndexes(job: Job, pods: readonly Pod[]): IndexedPlan {
  const completions = job.spec?.completions ?? 0;
  const succeeded = parseIndexes(job.status?.completedIndexes, completions);
  for (const p of pods) {
    const i = completionIndex(p);
    if (p.status?.phase === 'Succeeded' && i !== undefined && i < completions) succeeded.add(i);
  }
  const byIndex = new Map<number, Pod[]>();
  const excess: Pod[] = [];
  for (const p of pods.filter(isPodActive)) {
    const i = completionIndex(p);
    if (i === undefined || i >= completions || succeeded.has(i)) {
      excess.push(p);
      continue;
    }
    let list = byIndex.get(i);
    if (!list) byIndex.set(i, (list = []));
    list.push(p);
  }
  const active: Pod[] = [];
  for (const list of byIndex.values()) {
    // Keep the ready one if any, then the oldest.
    const [keep, ...rest] = [...list].sort(
      (a, b) => Number(isPodReady(b)) - Number(isPodReady(a)) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
    );
    active.push(keep!);
    excess.push(...rest);
  }
  const missing: number[] = [];
  for (let i = 0; i < completions; i++) if (!succeeded.has(i) && !byIndex.has(i)) missing.push(i);
  return { succeeded, active, excess, missing };
}

function withIndexEnv(c: Container): Container {
  if (c.env?.some((e) => e.name === JobCompletionIndexEnv)) return c;
  return {
    ...c,
    env: [...(c.env ?? []), { name: JobCompletionIndexEnv, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JobCompletionIndexAnnotation}']` } } }],
  };
}

/** The Job's pod for `index`: its annotation and label, the env variable, the hostname, the name prefix. */
export function podForIndex(template: Pod, job: Job, index: number): Pod {
  const pod = deepCopy(template);
  const value = String(index);
  pod.metadata.generateName = `${job.metadata.name}-${value}-`;
  pod.metadata.annotations = { ...pod.metadata.annotations, [JobCompletionIndexAnnotation]: value };
  pod.metadata.labels = { ...pod.metadata.labels, [JobCompletionIndexAnnotation]: value };
  const spec = pod.spec!;
  spec.containers = spec.containers.map(withIndexEnv);
  if (spec.initContainers) spec.initContainers = spec.initContainers.map(withIndexEnv);
  spec.hostname ??= `${job.metadata.name}-${value}`;
  return pod;
}
