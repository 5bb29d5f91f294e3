// Validation of the controllers' objects — apps/v1 Deployment, ReplicaSet, DaemonSet and
// batch/v1 Job: replica counts, a non-empty selector that selects the template's own labels,
// a valid pod template with the restart policy the controller can honour, rollout strategy
// bounds (int or percent), and the fields fixed at creation (selectors; a Job's template).

import { deepEqual } from '../objects';
import { labelSelectorAsQuery } from '../selectors/labels';
import type { IntOrString } from '../intstr';
import type { DaemonSet, Deployment, ReplicaSet } from '../types/apps';
import type { Job } from '../types/batch';
import type { PodTemplateSpec } from '../types/core';
import type { LabelSelector } from '../types/meta';
import { FieldErrors, FieldPathBuilder, fieldImmutableErrorMsg, validateNonnegative, type FieldErrorList } from './field';
import { isEmptySelector, validateAnnotations, validateLabels, validateLabelSelector } from './meta';
import { isValidPercent } from './names';
import { validatePodSpec } from './pod';

const spec = FieldPathBuilder.root('spec');

/** A selector that is present, non-empty, valid, and selects the template's labels. */
function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  emptyDetail: string,
): FieldErrorList {
  const errs: FieldErrorList = [];
  const selectorPath = spec.child('selector');
  if (!selector) {
    errs.push(FieldErrors.required(selectorPath));
  } else if (isEmptySelector(selector)) {
    errs.push(FieldErrors.invalid(selectorPath, selector, emptyDetail));
  } else {
    const selectorErrs = validateLabelSelector(selector, selectorPath);
    errs.push(...selectorErrs);
    if (selectorErrs.length === 0 && template) {
      const labels = template.metadata?.labels ?? {};
      if (!labelSelectorAsQuery(selector).matches(labels)) {
        errs.push(FieldErrors.invalid(spec.child('template', 'metadata', 'labels'), labels, '`selector` does not match template `labels`'));
      }
    }
  }
  return errs;
}

/** The template's metadata and spec, with the restart policies the controller allows. */
function validateTemplate(template: PodTemplateSpec | undefined, restartPolicies: string[], deadlineOwner?: string): FieldErrorList {
  const templatePath = spec.child('template');
  if (!template) return [FieldErrors.required(templatePath)];
  const errs = [
    ...validateLabels(template.metadata?.labels, templatePath.child('metadata', 'labels')),
    ...validateAnnotations(template.metadata?.annotations, templatePath.child('metadata', 'annotations')),
    ...validatePodSpec(template.spec, templatePath.child('spec')),
  ];
  const policy = template.spec?.restartPolicy;
  if (policy !== undefined && !restartPolicies.includes(policy)) {
    errs.push(FieldErrors.notSupported(templatePath.child('spec', 'restartPolicy'), policy, restartPolicies));
  }
  // A long-running workload's pods must not expire; Kubernetes names ReplicaSet for Deployments too.
  if (deadlineOwner && template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(FieldErrors.forbidden(templatePath.child('spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${deadlineOwner} is not Supported`));
  }
  return errs;
}

/** A count (≥ 0) or a percentage. */
function validateIntOrPercent(value: IntOrString | undefined, path: FieldPathBuilder): FieldErrorList {
  if (value === undefined) return [];
  if (typeof value === 'number') return validateNonnegative(value, path);
  return isValidPercent(value).map((msg) => FieldErrors.invalid(path, value, msg));
}

/** A percentage above 100% (a surge may exceed it; unavailability may not). */
function validateNotMoreThan100Percent(value: IntOrString | undefined, path: FieldPathBuilder): FieldErrorList {
  if (typeof value !== 'string' || isValidPercent(value).length > 0) return [];
  return Number(value.slice(0, -1)) > 100 ? [FieldErrors.invalid(path, value, 'must not be greater than 100%')] : [];
}

/** The number an int-or-percent holds, as Kubernetes compares it with 0 (unset and malformed read 0). */
function intOrPercentValue(value: IntOrString | undefined): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && isValidPercent(value).length === 0) return Number(value.slice(0, -1));
  return 0;
}

// --- Deployment ---

export function validateDeployment(deployment: Deployment): FieldErrorList {
  const s = deployment.spec;
  if (!s) return [FieldErrors.required(spec)];
  const errs: FieldErrorList = [];
  errs.push(...validateNonnegative(s.replicas, spec.child('replicas')));
  errs.push(...validateSelectorAndTemplate(s.selector, s.template, 'empty selector is invalid for deployment'));
  errs.push(...validateTemplate(s.template, ['Always'], 'ReplicaSet'));
  const strategy = s.strategy ?? {};
  const strategyPath = spec.child('strategy');
  const type = strategy.type ?? 'RollingUpdate';
  if (type !== 'Recreate' && type !== 'RollingUpdate') {
    errs.push(FieldErrors.notSupported(strategyPath.child('type'), type, ['Recreate', 'RollingUpdate']));
  } else if (type === 'Recreate' && strategy.rollingUpdate) {
    errs.push(FieldErrors.forbidden(strategyPath.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type === 'RollingUpdate' && strategy.rollingUpdate) {
    const ruPath = strategyPath.child('rollingUpdate');
    const { maxUnavailable, maxSurge } = strategy.rollingUpdate;
    errs.push(...validateIntOrPercent(maxUnavailable, ruPath.child('maxUnavailable')));
    errs.push(...validateIntOrPercent(maxSurge, ruPath.child('maxSurge')));
    if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
      errs.push(FieldErrors.invalid(ruPath.child('maxUnavailable'), maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
    }
    errs.push(...validateNotMoreThan100Percent(maxUnavailable, ruPath.child('maxUnavailable')));
  }
  errs.push(...validateNonnegative(s.minReadySeconds, spec.child('minReadySeconds')));
  errs.push(...validateNonnegative(s.revisionHistoryLimit, spec.child('revisionHistoryLimit')));
  if (s.progressDeadlineSeconds !== undefined) {
    errs.push(...validateNonnegative(s.progressDeadlineSeconds, spec.child('progressDeadlineSeconds')));
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)) {
      errs.push(FieldErrors.invalid(spec.child('progressDeadlineSeconds'), s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

function selectorImmutable(updated: LabelSelector | undefined, current: LabelSelector | undefined): FieldErrorList {
  return deepEqual(updated, current) ? [] : [FieldErrors.invalid(spec.child('selector'), updated ?? null, fieldImmutableErrorMsg)];
}

export function validateDeploymentUpdate(updated: Deployment, current: Deployment): FieldErrorList {
  return [...validateDeployment(updated), ...selectorImmutable(updated.spec?.selector, current.spec?.selector)];
}

// --- ReplicaSet ---

export function validateReplicaSet(replicaSet: ReplicaSet): FieldErrorList {
  const s = replicaSet.spec;
  if (!s) return [FieldErrors.required(spec)];
  return [
    ...validateNonnegative(s.replicas, spec.child('replicas')),
    ...validateNonnegative(s.minReadySeconds, spec.child('minReadySeconds')),
    // Kubernetes words this one with "deployment" for ReplicaSets too; clients match on it.
    ...validateSelectorAndTemplate(s.selector, s.template, 'empty selector is invalid for deployment'),
    ...validateTemplate(s.template, ['Always'], 'ReplicaSet'),
  ];
}

export function validateReplicaSetUpdate(updated: ReplicaSet, current: ReplicaSet): FieldErrorList {
  return [...validateReplicaSet(updated), ...selectorImmutable(updated.spec?.selector, current.spec?.selector)];
}

// --- DaemonSet ---

export function validateDaemonSet(daemonSet: DaemonSet): FieldErrorList {
  const s = daemonSet.spec;
  if (!s) return [FieldErrors.required(spec)];
  const errs = [
    ...validateSelectorAndTemplate(s.selector, s.template, 'empty selector is invalid for daemonset'),
    ...validateTemplate(s.template, ['Always'], 'DaemonSet'),
    ...validateNonnegative(s.minReadySeconds, spec.child('minReadySeconds')),
    ...validateNonnegative(s.revisionHistoryLimit, spec.child('revisionHistoryLimit')),
  ];
  const strategy = s.updateStrategy ?? {};
  const strategyPath = spec.child('updateStrategy');
  const type = strategy.type ?? 'RollingUpdate';
  if (type !== 'OnDelete' && type !== 'RollingUpdate') {
    errs.push(FieldErrors.notSupported(strategyPath.child('type'), type, ['OnDelete', 'RollingUpdate']));
  } else if (type === 'RollingUpdate' && strategy.rollingUpdate) {
    const ruPath = strategyPath.child('rollingUpdate');
    const { maxUnavailable, maxSurge } = strategy.rollingUpdate;
    errs.push(...validateIntOrPercent(maxUnavailable, ruPath.child('maxUnavailable')));
    errs.push(...validateIntOrPercent(maxSurge, ruPath.child('maxSurge')));
    errs.push(...validateNotMoreThan100Percent(maxUnavailable, ruPath.child('maxUnavailable')));
    errs.push(...validateNotMoreThan100Percent(maxSurge, ruPath.child('maxSurge')));
    // A DaemonSet rolls either by surging or by taking pods down, never both, never neither.
    const hasUnavailable = intOrPercentValue(maxUnavailable) !== 0;
    const hasSurge = intOrPercentValue(maxSurge) !== 0;
    if (hasUnavailable && hasSurge) {
      errs.push(FieldErrors.invalid(ruPath.child('maxSurge'), maxSurge, 'may not be set when maxUnavailable is non-zero'));
    } else if (!hasUnavailable && !hasSurge) {
      errs.push(FieldErrors.required(ruPath.child('maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
    }
  }
  return errs;
}

export function validateDaemonSetUpdate(updated: DaemonSet, current: DaemonSet): FieldErrorList {
  return [...validateDaemonSet(updated), ...selectorImmutable(updated.spec?.selector, current.spec?.selector)];
}

// --- Job ---

export function validateJob(job: Job): FieldErrorList {
  const s = job.spec;
  if (!s) return [FieldErrors.required(spec)];
  const errs: FieldErrorList = [];
  for (const field of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished'] as const) {
    errs.push(...validateNonnegative(s[field], spec.child(field)));
  }
  errs.push(...validateSelectorAndTemplate(s.selector, s.template, 'empty selector is invalid for job'));
  errs.push(...validateTemplate(s.template, ['OnFailure', 'Never']));
  const mode = s.completionMode ?? 'NonIndexed';
  if (mode !== 'NonIndexed' && mode !== 'Indexed') {
    errs.push(FieldErrors.notSupported(spec.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
  } else if (mode === 'Indexed' && s.completions === undefined) {
    errs.push(FieldErrors.required(spec.child('completions'), 'when completion mode is Indexed'));
  }
  return errs;
}

export function validateJobUpdate(updated: Job, current: Job): FieldErrorList {
  const errs = [...validateJob(updated), ...selectorImmutable(updated.spec?.selector, current.spec?.selector)];
  const next = updated.spec;
  const prev = current.spec;
  if (!next || !prev) return errs;
  if (!deepEqual(next.template, prev.template)) errs.push(FieldErrors.invalid(spec.child('template'), next.template, fieldImmutableErrorMsg));
  if (next.completions !== prev.completions) errs.push(FieldErrors.invalid(spec.child('completions'), next.completions ?? null, fieldImmutableErrorMsg));
  if ((next.completionMode ?? 'NonIndexed') !== (prev.completionMode ?? 'NonIndexed')) {
    errs.push(FieldErrors.invalid(spec.child('completionMode'), next.completionMode, fieldImmutableErrorMsg));
  }
  return errs;
}

// --- status writes ---

const status = FieldPathBuilder.root('status');

/** Counts that may not be negative, and replica counts that may not exceed status.replicas. */
function validateReplicaCounts(
  counts: Record<string, number | undefined>,
  bounded: string[],
): FieldErrorList {
  const errs: FieldErrorList = [];
  for (const [field, value] of Object.entries(counts)) errs.push(...validateNonnegative(value, status.child(field)));
  const replicas = counts['replicas'] ?? 0;
  for (const field of bounded) {
    const value = counts[field] ?? 0;
    if (value > replicas) errs.push(FieldErrors.invalid(status.child(field), value, 'cannot be greater than status.replicas'));
  }
  const available = counts['availableReplicas'] ?? 0;
  if (available > (counts['readyReplicas'] ?? 0)) {
    errs.push(FieldErrors.invalid(status.child('availableReplicas'), available, 'cannot be greater than readyReplicas'));
  }
  return errs;
}

function collisionCountNotDecremented(updated: number | undefined, current: number | undefined): FieldErrorList {
  if (current === undefined || (updated ?? 0) >= current) return [];
  return [FieldErrors.invalid(status.child('collisionCount'), updated ?? 0, 'cannot be decremented')];
}

export function validateDeploymentStatus(updated: Deployment, current: Deployment): FieldErrorList {
  const s = updated.status ?? {};
  return [
    ...validateReplicaCounts(
      {
        observedGeneration: s.observedGeneration,
        replicas: s.replicas,
        updatedReplicas: s.updatedReplicas,
        readyReplicas: s.readyReplicas,
        availableReplicas: s.availableReplicas,
        unavailableReplicas: s.unavailableReplicas,
        collisionCount: s.collisionCount,
      },
      ['updatedReplicas', 'readyReplicas', 'availableReplicas'],
    ),
    ...collisionCountNotDecremented(s.collisionCount, current.status?.collisionCount),
  ];
}

export function validateReplicaSetStatus(updated: ReplicaSet): FieldErrorList {
  const s: Partial<NonNullable<ReplicaSet['status']>> = updated.status ?? {};
  return validateReplicaCounts(
    {
      replicas: s.replicas,
      fullyLabeledReplicas: s.fullyLabeledReplicas,
      readyReplicas: s.readyReplicas,
      availableReplicas: s.availableReplicas,
      observedGeneration: s.observedGeneration,
    },
    ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'],
  );
}

export function validateDaemonSetStatus(updated: DaemonSet, current: DaemonSet): FieldErrorList {
  const s: Partial<NonNullable<DaemonSet['status']>> = updated.status ?? {};
  const errs: FieldErrorList = [];
  for (const field of [
    'currentNumberScheduled',
    'numberMisscheduled',
    'desiredNumberScheduled',
    'numberReady',
    'observedGeneration',
    'updatedNumberScheduled',
    'numberAvailable',
    'numberUnavailable',
    'collisionCount',
  ] as const) {
    errs.push(...validateNonnegative(s[field], status.child(field)));
  }
  errs.push(...collisionCountNotDecremented(s.collisionCount, current.status?.collisionCount));
  return errs;
}

export function validateJobStatus(updated: Job): FieldErrorList {
  const s = updated.status ?? {};
  const errs: FieldErrorList = [];
  for (const field of ['active', 'succeeded', 'failed', 'ready', 'terminating'] as const) {
    errs.push(...validateNonnegative(s[field], status.child(field)));
  }
  return errs;
}
