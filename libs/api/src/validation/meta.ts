// Validation of what every object shares: names (each kind picks its name format), the
// namespace (required for namespaced kinds, forbidden for cluster-scoped ones), labels,
// annotations (keys, and 256 KiB in total), owner references (at most one controller),
// finalizers, and the fields an update may not touch (name, namespace, uid,
// creationTimestamp). Also the structured LabelSelector, shared by every workload.

import { deepEqual } from '../objects';
import type { LabelSelector, ObjectMeta, OwnerReference } from '../types/meta';
import { FieldErrors, FieldPathBuilder, fieldImmutableErrorMsg, type FieldErrorList } from './field';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isLabelKey, isLabelValue, isQualifiedName } from './names';

/** Checks a name; `prefix` is true for a generateName, which may end in a dash. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** generateName `web-` becomes `web-<random>`, so a trailing dash is fine in a prefix. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** A name that is one safe URL path segment (RBAC objects may use `:` and capitals). */
export const nameIsPathSegment: NameValidator = (name, prefix) => {
  const errs: string[] = [];
  if (!prefix) {
    if (name === '.' || name === '..') errs.push(`may not be '${name}'`);
  }
  if (name.includes('/')) errs.push("may not contain '/'");
  if (name.includes('%')) errs.push("may not contain '%'");
  return errs;
};

/** Kubernetes' limit on the total size of an object's annotations. */
export const TotalAnnotationSizeLimitB = 256 * 1024;

export function validateLabels(labels: Record<string, string> | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    for (const msg of isLabelKey(key)) errs.push(FieldErrors.invalid(path, key, msg));
    for (const msg of isLabelValue(value)) errs.push(FieldErrors.invalid(path, value, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  let size = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    // Annotation keys are checked in lower case: upper-case letters are allowed in them.
    for (const msg of isQualifiedName(key.toLowerCase())) errs.push(FieldErrors.invalid(path, key, msg));
    size += utf8Length(key) + utf8Length(value);
  }
  if (size > TotalAnnotationSizeLimitB) errs.push(FieldErrors.tooLong(path, TotalAnnotationSizeLimitB));
  return errs;
}

/** The UTF-8 byte length of a string, which is what Kubernetes' size limits count. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

export function validateOwnerReferences(refs: OwnerReference[] | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  const controllers: string[] = [];
  for (const ref of refs ?? []) {
    if (!ref.apiVersion) errs.push(FieldErrors.invalid(path.child('apiVersion'), ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errs.push(FieldErrors.invalid(path.child('kind'), ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errs.push(FieldErrors.invalid(path.child('name'), ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(FieldErrors.invalid(path.child('uid'), ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller === true) controllers.push(`${ref.kind}/${ref.name}`);
  }
  if (controllers.length > 1) {
    errs.push(
      FieldErrors.invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`),
    );
  }
  return errs;
}

export function validateFinalizers(finalizers: string[] | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  (finalizers ?? []).forEach((finalizer, i) => {
    for (const msg of isQualifiedName(finalizer)) errs.push(FieldErrors.invalid(path.index(i), finalizer, msg));
  });
  return errs;
}

export interface ObjectMetaRules {
  namespaced: boolean;
  validateName: NameValidator;
}

/** ValidateObjectMeta: name (or generateName), namespace, labels, annotations, owners, finalizers. */
export function validateObjectMeta(meta: ObjectMeta | undefined, rules: ObjectMetaRules, path = FieldPathBuilder.root('metadata')): FieldErrorList {
  const errs: FieldErrorList = [];
  const m = meta ?? {};
  if (m.generateName) {
    for (const msg of rules.validateName(m.generateName, true)) errs.push(FieldErrors.invalid(path.child('generateName'), m.generateName, msg));
  }
  if (!m.name) {
    errs.push(FieldErrors.required(path.child('name'), 'name or generateName is required'));
  } else {
    for (const msg of rules.validateName(m.name, false)) errs.push(FieldErrors.invalid(path.child('name'), m.name, msg));
  }
  if (rules.namespaced) {
    if (!m.namespace) errs.push(FieldErrors.required(path.child('namespace')));
    else for (const msg of isDNS1123Label(m.namespace)) errs.push(FieldErrors.invalid(path.child('namespace'), m.namespace, msg));
  } else if (m.namespace) {
    errs.push(FieldErrors.forbidden(path.child('namespace'), 'not allowed on this type'));
  }
  if (m.generation !== undefined && m.generation < 0) {
    errs.push(FieldErrors.invalid(path.child('generation'), m.generation, 'must be greater than or equal to 0'));
  }
  errs.push(...validateLabels(m.labels, path.child('labels')));
  errs.push(...validateAnnotations(m.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, path.child('finalizers')));
  return errs;
}

/** ValidateObjectMetaUpdate: the identity fields stay as they were. */
export function validateObjectMetaUpdate(updated: ObjectMeta, current: ObjectMeta, path = FieldPathBuilder.root('metadata')): FieldErrorList {
  const errs: FieldErrorList = [];
  const immutable = (field: keyof ObjectMeta, detail = fieldImmutableErrorMsg) => {
    if (!deepEqual(updated[field] ?? '', current[field] ?? '')) errs.push(FieldErrors.invalid(path.child(field), updated[field] ?? '', detail));
  };
  immutable('name');
  immutable('namespace');
  immutable('uid');
  immutable('creationTimestamp');
  // Set only by a DELETE; an update may keep it but not set or move it.
  if (updated.deletionTimestamp !== undefined && updated.deletionTimestamp !== current.deletionTimestamp) {
    immutable('deletionTimestamp', `${fieldImmutableErrorMsg}; may only be changed via deletion`);
  }
  if (updated.deletionGracePeriodSeconds !== undefined && updated.deletionGracePeriodSeconds !== current.deletionGracePeriodSeconds) {
    immutable('deletionGracePeriodSeconds', `${fieldImmutableErrorMsg}; may only be changed via deletion`);
  }
  if (current.deletionTimestamp !== undefined) {
    const added = (updated.finalizers ?? []).filter((f) => !(current.finalizers ?? []).includes(f));
    if (added.length > 0) {
      errs.push(
        FieldErrors.forbidden(path.child('finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`),
      );
    }
  }
  return errs;
}

/** A structured label selector: valid keys and values, operators with the right values. */
export function validateLabelSelector(selector: LabelSelector | undefined, path: FieldPathBuilder): FieldErrorList {
  if (!selector) return [];
  const errs = validateLabels(selector.matchLabels, path.child('matchLabels'));
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    const exprPath = path.child('matchExpressions').index(i);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(FieldErrors.required(exprPath.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(FieldErrors.forbidden(exprPath.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(FieldErrors.invalid(exprPath.child('operator'), expr.operator, 'not a valid selector operator'));
    }
    for (const msg of isQualifiedName(expr.key ?? '')) errs.push(FieldErrors.invalid(exprPath.child('key'), expr.key ?? '', msg));
    values.forEach((value, j) => {
      for (const msg of isLabelValue(value)) errs.push(FieldErrors.invalid(exprPath.child('values').index(j), value, msg));
    });
  });
  return errs;
}

/** Whether a selector has no requirements at all (and so would select everything). */
export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}
