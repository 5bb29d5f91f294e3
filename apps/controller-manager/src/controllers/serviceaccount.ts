// The ServiceAccount controller: every active namespace has a ServiceAccount named
// `default`, re-created if someone deletes it. Tokens are not minted here: pods get
// short-lived projected tokens that the agent requests through the apiserver's TokenRequest
// (serviceaccounts/token), as kubelet does, so no token Secrets are written.
import type { Namespace, ServiceAccount } from '@keel/api';
import { ApiError } from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, type ControllerContext } from '../runtime/controller';
import type { Informer } from '../runtime/informer';

export const DefaultServiceAccount = 'default';

export class ServiceAccountController extends Controller {
  readonly name = 'serviceaccount';
  private readonly namespaces: Informer<Namespace>;
  private readonly serviceAccounts: Informer<ServiceAccount>;

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.namespaces = ctx.informers.for<Namespace>(Resources.namespaces);
    this.serviceAccounts = ctx.informers.for<ServiceAccount>(Resources.serviceAccounts);
    this.namespaces.addHandler({
      add: (ns) => this.enqueue(ns.metadata.name!),
      update: (_, ns) => this.enqueue(ns.metadata.name!),
    });
    this.serviceAccounts.addHandler({
      delete: (sa) => {
        if (sa.metadata.name === DefaultServiceAccount) this.enqueue(sa.metadata.namespace!);
      },
    });
  }

  async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    if (this.serviceAccounts.get(`${namespace}/${DefaultServiceAccount}`)) return;
    try {
      await this.ctx.client.serviceAccounts(namespace).create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DefaultServiceAccount, namespace } });
    } catch (err) {
      // Already there (our cache was behind), or the namespace began terminating: done.
      if (err instanceof ApiError && (err.reason === 'AlreadyExists' || err.reason === 'Forbidden' || err.reason === 'NotFound')) return;
      throw err;
    }
  }
}
