// Defaulting for batch/v1 Job (SetDefaults_Job, plus the selector the Job create strategy
// generates): completions and parallelism 1 when neither is set, backoffLimit 6,
// completionMode NonIndexed, not suspended; without `manualSelector` the selector is the
// Job's own uid, and the template carries the matching labels.

import type { Job } from '../types/batch';
import { defaultPodTemplate } from './apps';

export const JobLabels = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  /** The unprefixed spellings, still set for old selectors and tools. */
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
} as const;

export function defaultJob(job: Job): void {
  const spec = job.spec;
  if (!spec) return;
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  defaultPodTemplate(spec.template);
  generateJobSelector(job);
}

/**
 * Without `manualSelector: true`, a Job selects its pods by its own uid: the selector and
 * the template labels are generated from `metadata.uid` (which the apiserver assigns before
 * defaulting on create). Without a uid yet, nothing is generated.
 */
export function generateJobSelector(job: Job): void {
  const spec = job.spec;
  const uid = job.metadata.uid;
  const name = job.metadata.name;
  if (!spec || spec.manualSelector === true || !uid) return;
  if (!spec.selector) spec.selector = { matchLabels: { [JobLabels.controllerUid]: uid } };
  const template = (spec.template ??= {});
  const metadata = (template.metadata ??= {});
  const labels = (metadata.labels ??= {});
  labels[JobLabels.controllerUid] ??= uid;
  labels[JobLabels.legacyControllerUid] ??= uid;
  if (name) {
    labels[JobLabels.jobName] ??= name;
    labels[JobLabels.legacyJobName] ??= name;
  }
}
