// The Namespace controller: when a namespace is deleted (it lingers, Terminating, held by
// its `kubernetes` spec finalizer) it deletes every namespaced object in it, resource by
// resource, asks the apiserver again until nothing is left, and then takes the `kubernetes`
// finalizer off so the apiserver removes the namespace. That last step is the `finalize`
// subresource (an ordinary update may not touch spec.finalizers): it is tried over keel.v1
// first, and since keel.v1 does not serve it yet, then as Kubernetes' own
// `PUT /api/v1/namespaces/<name>/finalize` on the REST URL given by --apiserver-url.
import { ApiError, deepCopy, scheme, setCondition, type KubeObject, type Namespace, type NamespaceCondition, type ResourceInfo } from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import type { Informer } from '../runtime/informer';
import { restPut } from '../runtime/rest';

export const KubernetesFinalizer = 'kubernetes';

/** Every namespaced resource a namespace can hold that can be listed and deleted. */
export function namespacedResources(): ResourceInfo[] {
  return scheme.resources.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
}

export class NamespaceController extends Controller {
  readonly name = 'namespace';
  private readonly namespaces: Informer<Namespace>;
  /** How long to wait before looking again at a namespace whose contents are still going. */
  retryMs = 1000;

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.namespaces = ctx.informers.for<Namespace>(Resources.namespaces);
    this.namespaces.addHandler({
      add: (ns) => this.enqueue(ns.metadata.name!),
      update: (_, ns) => this.enqueue(ns.metadata.name!),
    });
  }

  async reconcile(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns?.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(KubernetesFinalizer)) return;
    let remaining = 0;
    const left: Record<string, number> = {};
    const failures: string[] = [];
    for (const info of namespacedResources()) {
      const client = this.ctx.client.resource<KubeObject>(info).namespace(name);
      try {
        const list = await client.list();
        if (list.items.length === 0) continue;
        remaining += list.items.length;
        left[info.resource] = list.items.length;
        // One by one rather than deletecollection: a pod on a node lingers gracefully and
        // objects with finalizers wait for their owners' controllers either way.
        for (const item of list.items) {
          if (item.metadata.deletionTimestamp) continue;
          await client.delete(item.metadata.name!).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
        }
      } catch (err) {
        failures.push(`${info.resource}: ${(err as Error).message}`);
      }
    }
    if (remaining > 0 || failures.length > 0) {
      this.ctx.log.info('namespace content remaining', { namespace: name, left, failures });
      await this.setConditions(ns, remaining, failures);
      this.queue.addAfter(name, this.retryMs);
      return;
    }
    const copy = deepCopy(ns);
    copy.spec = { ...copy.spec, finalizers: (copy.spec?.finalizers ?? []).filter((f) => f !== KubernetesFinalizer) };
    await this.finalize(copy);
  }

  /** Writes spec.finalizers through the finalize subresource, over gRPC or else REST. */
  private async finalize(ns: Namespace): Promise<void> {
    const name = ns.metadata.name!;
    try {
      await this.ctx.client.transport.update(Resources.namespaces, undefined, name, ns, { subresource: 'finalize' });
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!(err instanceof ApiError && err.reason === 'MethodNotAllowed')) throw err;
    }
    const url = this.ctx.config.apiserverUrl;
    if (!url) {
      throw new ApiError('MethodNotAllowed', `cannot finalize namespace ${name}: keel.v1 does not serve namespaces/finalize and no --apiserver-url is set`);
    }
    const res = await restPut({ url, ...this.ctx.config.apiserverAuth }, `api/v1/namespaces/${encodeURIComponent(name)}/finalize`, { ...ns, apiVersion: 'v1', kind: 'Namespace' });
    if (res.status === 404) return;
    if (res.status < 200 || res.status > 299) throw new Error(`PUT namespaces/${name}/finalize: ${res.status} ${res.body.slice(0, 200)}`);
  }

  /** NamespaceContentRemaining and NamespaceDeletionContentFailure, as `kubectl describe ns` shows them. */
  private async setConditions(ns: Namespace, remaining: number, failures: string[]): Promise<void> {
    const now = this.ctx.now();
    let conditions: NamespaceCondition[] = ns.status?.conditions ?? [];
    conditions = setCondition(conditions, {
      type: 'NamespaceContentRemaining',
      status: remaining > 0 ? 'True' : 'False',
      reason: remaining > 0 ? 'SomeResourcesRemain' : 'ContentRemoved',
      message: remaining > 0 ? `Some resources are remaining: ${remaining} objects` : 'All content successfully removed',
    }, now);
    conditions = setCondition(conditions, {
      type: 'NamespaceDeletionContentFailure',
      status: failures.length > 0 ? 'True' : 'False',
      reason: failures.length > 0 ? 'ContentDeletionFailed' : 'ContentDeleted',
      message: failures.length > 0 ? `Failed to delete all resource types, ${failures.join('; ')}` : 'All content successfully deleted, may be waiting on finalization',
    }, now);
    if (JSON.stringify(conditions) === JSON.stringify(ns.status?.conditions ?? [])) return;
    try {
      await this.ctx.client.namespaces().updateStatus({ ...deepCopy(ns), status: { ...ns.status, conditions } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
