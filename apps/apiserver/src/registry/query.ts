// The options of reads and writes, checked once for both adapters: label and field
// selectors compiled into predicates, paging and resourceVersion parameters, DeleteOptions
// and field manager names. REST reads them from the query string, gRPC from its messages;
// the answers to bad values (400, 422) are the same either way.
import { ApiErrors, compileFieldSelector, parseLabelSelectorParam, type DeleteOptions, type ResourceInfo } from '@keel/api';
import type { ListQuery } from './handler';

/** A list or watch query as the wire carries it: strings, and a number for limit. */
export interface ListParams {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  /** Absent, '' (newest), '0' (any) or a revision. */
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export function compileListQuery(info: ResourceInfo, p: ListParams): ListQuery {
  const query: ListQuery = {};
  if (p.labelSelector) {
    let selector: ReturnType<typeof parseLabelSelectorParam>;
    try {
      selector = parseLabelSelectorParam(p.labelSelector);
    } catch (err) {
      throw ApiErrors.badRequest(`unable to parse requirement: ${(err as Error).message}`);
    }
    query.labelSelector = (o) => selector.matches(o.metadata.labels ?? {});
  }
  if (p.fieldSelector) query.fieldSelector = compileFieldSelector(info.resource, p.fieldSelector).matches;
  if (p.limit !== undefined && p.limit > 0) query.limit = p.limit;
  if (p.continue) query.continue = p.continue;
  if (p.resourceVersion !== undefined) query.resourceVersion = p.resourceVersion;
  if (p.resourceVersionMatch) {
    const match = p.resourceVersionMatch;
    if (match !== 'Exact' && match !== 'NotOlderThan') throw ApiErrors.badRequest(`invalid resourceVersionMatch "${match}"`);
    query.resourceVersionMatch = match;
  }
  return query;
}

/** Checks a propagation policy and clamps a negative grace period, as Kubernetes does. */
export function checkDeleteOptions(options: DeleteOptions): DeleteOptions {
  if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
    throw ApiErrors.invalid({ kind: 'DeleteOptions' }, '', [
      {
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
        field: 'propagationPolicy',
      },
    ]);
  }
  if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0) options.gracePeriodSeconds = 1;
  return options;
}

/** A field manager name as a client sent it. */
export function checkFieldManager(name: string): string {
  if (name.length > 128) throw ApiErrors.badRequest('fieldManager: Too long: may not be longer than 128');
  return name;
}
