// meta.k8s.io/v1 Table output for `kubectl get`, through @keel/api's printers. A watch
// sends the column definitions only with its first event.
import { toTable as libToTable, type KubeObject, type ResourceInfo } from '@keel/api';

export interface TableOptions {
  now: Date;
  resourceVersion: string;
  continue?: string;
  /** Include columnDefinitions (false for the later events of a watch). */
  headers?: boolean;
}

export function toTable(info: ResourceInfo, objects: KubeObject[], opts: TableOptions) {
  return libToTable(info.resource, objects, {
    now: opts.now,
    noHeaders: opts.headers === false,
    listMeta: { resourceVersion: opts.resourceVersion, ...(opts.continue ? { continue: opts.continue } : {}) },
  });
}
