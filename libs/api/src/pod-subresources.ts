// The options of a pod's `log` and `exec` subresources, read from the query string kubectl
// sends (`?container=c&follow=true&tailLines=10`, `?command=ls&command=-l&stdout=true`),
// checked as Kubernetes checks them, and the choice of container when none is named. Errors
// are the 400s and 422s Kubernetes answers with, in its words.

import { ApiErrors } from './errors';
import type { Pod, PodExecOptions, PodLogOptions } from './types/core';
import { FieldErrors, FieldPathBuilder, toInvalidError, type FieldErrorList } from './validation/field';

/** The part of URLSearchParams this needs (URLSearchParams itself fits). */
export interface QueryParams {
  get(name: string): string | null;
  getAll(name: string): string[];
}

function readBoolean(params: QueryParams, name: string): boolean | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (value === '' || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw ApiErrors.badRequest(`invalid value for ${name}: ${JSON.stringify(value)}: must be true or false`);
}

function readInteger(params: QueryParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!/^-?[0-9]+$/.test(value)) throw ApiErrors.badRequest(`invalid value for ${name}: ${JSON.stringify(value)}: must be an integer`);
  return Number(value);
}

/** ValidatePodLogOptions: each problem named by its query parameter. */
export function validatePodLogOptions(options: PodLogOptions): FieldErrorList {
  const errs: FieldErrorList = [];
  if (options.tailLines !== undefined && options.tailLines < 0) {
    errs.push(FieldErrors.invalid(FieldPathBuilder.root('tailLines'), options.tailLines, 'must be greater than or equal to 0'));
  }
  if (options.limitBytes !== undefined && options.limitBytes < 1) {
    errs.push(FieldErrors.invalid(FieldPathBuilder.root('limitBytes'), options.limitBytes, 'must be greater than 0'));
  }
  if (options.sinceSeconds !== undefined && options.sinceTime !== undefined) {
    errs.push(FieldErrors.forbidden(FieldPathBuilder.root(''), 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  } else if (options.sinceSeconds !== undefined && options.sinceSeconds < 1) {
    errs.push(FieldErrors.invalid(FieldPathBuilder.root('sinceSeconds'), options.sinceSeconds, 'must be greater than 0'));
  }
  return errs;
}

/** Reads and checks `pods/{name}/log` options; a bad value is a 400, a bad combination a 422. */
export function parsePodLogOptions(params: QueryParams): PodLogOptions {
  const options: PodLogOptions = {};
  const container = params.get('container');
  if (container) options.container = container;
  const sinceTime = params.get('sinceTime');
  if (sinceTime) options.sinceTime = sinceTime;
  for (const name of ['follow', 'previous', 'timestamps', 'insecureSkipTLSVerifyBackend'] as const) {
    const value = readBoolean(params, name);
    if (value !== undefined) options[name] = value;
  }
  for (const name of ['sinceSeconds', 'tailLines', 'limitBytes'] as const) {
    const value = readInteger(params, name);
    if (value !== undefined) options[name] = value;
  }
  const err = toInvalidError({ kind: 'PodLogOptions' }, '', validatePodLogOptions(options));
  if (err) throw err;
  return options;
}

/** Reads and checks `pods/{name}/exec` options: a command and at least one stream. */
export function parsePodExecOptions(params: QueryParams): PodExecOptions {
  const options: PodExecOptions = { command: params.getAll('command') };
  const container = params.get('container');
  if (container) options.container = container;
  for (const name of ['stdin', 'stdout', 'stderr', 'tty'] as const) {
    const value = readBoolean(params, name);
    if (value !== undefined) options[name] = value;
  }
  if (options.command.length === 0) throw ApiErrors.badRequest('you must specify at least 1 command');
  if (!options.stdin && !options.stdout && !options.stderr) throw ApiErrors.badRequest('you must specify at least one of stdin, stdout, stderr');
  return options;
}

/**
 * The container a log or exec request is for: the named one, or the pod's only container.
 * Answers 400 with Kubernetes' message when the name is missing and there is a choice, or
 * names no container of the pod.
 */
export function resolvePodContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name ?? '';
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const initContainers = (pod.spec?.initContainers ?? []).map((c) => c.name);
  if (requested) {
    if (containers.includes(requested) || initContainers.includes(requested)) return requested;
    throw ApiErrors.badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  if (containers.length === 1) return containers[0]!;
  const choices = `choose one of: [${containers.join(' ')}]`;
  const inits = initContainers.length > 0 ? ` or one of the init containers: [${initContainers.join(' ')}]` : '';
  throw ApiErrors.badRequest(`a container name must be specified for pod ${name}, ${choices}${inits}`);
}
