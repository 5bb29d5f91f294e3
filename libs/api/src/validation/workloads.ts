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
function validateTemplate(template: PodTemplateSpec | undefined, restartPolicies: string[], forbidDeadline: boolean): FieldErrorList {
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
  if (forbidDeadline && template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(FieldErrors.forbidden(templatePath.child('spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errs;
}

/** A count (≥ 0) or a percentage (≤ 100%). */
function validateIntOrPercent(value: IntOrString | undefined, path: FieldPathBuilder): FieldErrorList {
  if (value === undefined) return [];
  if (typeof value === 'number') return validateNonnegative(value, path);
  const percentErrs = isValidPercent(value);
  if (percentErrs.length > 0) return percentErrs.map((msg) => FieldErrors.invalid(path, value, msg));
  return Number(value.slice(0, -1)) > 100 ? [FieldErrors.invalid(path, value, 'must not be greater than 100%')] : [];
}

function isZero(value: IntOrString | undefined): boolean {
  return value === 0 || value === '0%';
}

// --- Deployment ---

export function validateDeployment(deployment: Deployment): FieldErrorList {
  const s = deployment.spec;
  if (!s) return [FieldErrors.required(spec)];
  const errs: FieldErrorList = [];
  errs.push(...validateNonnegative(s.replicas, spec.child('replicas')));
  errs.push(...validateSelectorAndTemplate(s.selector, s.template, 'empty selector is invalid for deployment'));
  errs.push(...validateTemplate(s.template, ['Always'], true));
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
    if (isZero(maxUnavailable) && isZero(maxSurge)) {
      errs.push(FieldErrors.invalid(ruPath.child('maxUnavailable'), maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
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
    ...validateTemplate(s.template, ['Always'], true),
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
    ...validateTemplate(s.template, ['Always'], true),
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
    if (isZero(maxUnavailable ?? 1) && isZero(maxSurge ?? 0)) {
      errs.push(FieldErrors.invalid(ruPath.child('maxUnavailable'), maxUnavailable, 'cannot be 0 when maxSurge is 0'));
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
  errs.push(...validateTemplate(s.template, ['OnFailure', 'Never'], false));
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
