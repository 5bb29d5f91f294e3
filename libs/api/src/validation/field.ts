// Field errors: the causes of a 422. Each constructor renders Kubernetes' exact message body
// (`Required value`, `Invalid value: <value>: <detail>`, `Unsupported value: ...`,
// `Duplicate value: ...`, `Forbidden: ...`, `Too long: ...`) and carries the field path,
// so `ApiErrors.invalid` can print `spec.replicas: Invalid value: -1: must be ...`. A
// FieldPathBuilder builds paths the way Kubernetes prints them: `spec.containers[0].image`,
// `metadata.labels[app]`.

import { ApiErrors, type ApiError, type StatusCause } from '../errors';

export type FieldErrorReason =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound';

/** One bad field: a Status cause with a typed reason and a required field path. */
export interface FieldError extends StatusCause {
  reason: FieldErrorReason;
  field: string;
}

export type FieldErrorList = FieldError[];

/** An immutable field path. `child` appends `.name`, `index` `[i]`, `key` `[k]`. */
export class FieldPathBuilder {
  private constructor(private readonly text: string) {}

  static root(name: string): FieldPathBuilder {
    return new FieldPathBuilder(name);
  }

  child(...names: string[]): FieldPathBuilder {
    return new FieldPathBuilder(names.reduce((path, name) => (path ? `${path}.${name}` : name), this.text));
  }

  index(i: number): FieldPathBuilder {
    return new FieldPathBuilder(`${this.text}[${i}]`);
  }

  key(k: string): FieldPathBuilder {
    return new FieldPathBuilder(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}

/** Renders a bad value the way Kubernetes does: strings quoted, numbers and booleans bare, the rest as JSON. */
export function formatBadValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function withDetail(body: string, detail: string | undefined): string {
  return detail ? `${body}: ${detail}` : body;
}

export const FieldErrors = {
  required(path: FieldPathBuilder, detail?: string): FieldError {
    return { reason: 'FieldValueRequired', message: withDetail('Required value', detail), field: path.toString() };
  },
  invalid(path: FieldPathBuilder, value: unknown, detail?: string): FieldError {
    return { reason: 'FieldValueInvalid', message: withDetail(`Invalid value: ${formatBadValue(value)}`, detail), field: path.toString() };
  },
  notSupported(path: FieldPathBuilder, value: unknown, supported: readonly string[]): FieldError {
    const detail = supported.length > 0 ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : undefined;
    return { reason: 'FieldValueNotSupported', message: withDetail(`Unsupported value: ${formatBadValue(value)}`, detail), field: path.toString() };
  },
  notFound(path: FieldPathBuilder, value: unknown): FieldError {
    return { reason: 'FieldValueNotFound', message: `Not found: ${formatBadValue(value)}`, field: path.toString() };
  },
  duplicate(path: FieldPathBuilder, value: unknown): FieldError {
    return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${formatBadValue(value)}`, field: path.toString() };
  },
  forbidden(path: FieldPathBuilder, detail: string): FieldError {
    return { reason: 'FieldValueForbidden', message: withDetail('Forbidden', detail), field: path.toString() };
  },
  tooLong(path: FieldPathBuilder, maxLength: number): FieldError {
    return {
      reason: 'FieldValueTooLong',
      message: `Too long: may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}`,
      field: path.toString(),
    };
  },
  tooMany(path: FieldPathBuilder, actual: number, max: number): FieldError {
    return { reason: 'FieldValueTooMany', message: `Too many: ${actual}: must have at most ${max} ${max === 1 ? 'item' : 'items'}`, field: path.toString() };
  },
} as const;

/** Kubernetes' detail for a changed immutable field. */
export const fieldImmutableErrorMsg = 'field is immutable';

/** An `Invalid value: <new>: field is immutable` error when the value changed. */
export function validateImmutableField(updated: unknown, current: unknown, path: FieldPathBuilder, equal: (a: unknown, b: unknown) => boolean): FieldErrorList {
  return equal(updated, current) ? [] : [FieldErrors.invalid(path, updated, fieldImmutableErrorMsg)];
}

/** `must be greater than or equal to 0` when negative. */
export function validateNonnegative(value: number | undefined, path: FieldPathBuilder): FieldErrorList {
  return value !== undefined && value < 0 ? [FieldErrors.invalid(path, value, 'must be greater than or equal to 0')] : [];
}

/** `must be greater than 0` when not positive. */
export function validatePositive(value: number | undefined, path: FieldPathBuilder): FieldErrorList {
  return value !== undefined && value <= 0 ? [FieldErrors.invalid(path, value, 'must be greater than 0')] : [];
}

/** The 422 for these causes, or undefined when there are none. */
export function toInvalidError(kind: { group?: string; kind: string }, name: string, errors: FieldErrorList): ApiError | undefined {
  return errors.length === 0 ? undefined : ApiErrors.invalid(kind, name, errors);
}
