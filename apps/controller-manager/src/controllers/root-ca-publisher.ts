// The root CA publisher (kube-controller-manager's root-ca-cert-publisher): every active
// namespace has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the CA that signed the
// apiserver's serving certificate, so pods can verify the apiserver with what their
// projected kube-api-access volume mounts. The CA comes from --root-ca-file (or the
// --certificate-authority this process itself trusts); a ConfigMap edited or deleted by
// someone else is put back.
import { ApiError, type ConfigMap, type Namespace } from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, type ControllerContext } from '../runtime/controller';
import type { Informer } from '../runtime/informer';

export const RootCAConfigMapName = 'kube-root-ca.crt';
const DescriptionAnnotation = 'kubernetes.io/description';
const Description = 'The CA bundle of the cluster: verifies the apiserver reached through kubernetes.default.svc or the service IP. Published by keel-controller-manager.';

export class RootCAPublisher extends Controller {
  readonly name = 'root-ca-cert-publisher';
  private readonly namespaces: Informer<Namespace>;
  private readonly configMaps: Informer<ConfigMap>;

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.namespaces = ctx.informers.for<Namespace>(Resources.namespaces);
    this.configMaps = ctx.informers.for<ConfigMap>(Resources.configMaps);
    if (!ctx.config.rootCA) ctx.log.warn('root-ca-cert-publisher: no --root-ca-file or --certificate-authority; kube-root-ca.crt is not published');
    this.namespaces.addHandler({
      add: (ns) => this.enqueue(ns.metadata.name!),
      update: (_, ns) => this.enqueue(ns.metadata.name!),
    });
    const ours = (cm: ConfigMap) => {
      if (cm.metadata.name === RootCAConfigMapName) this.enqueue(cm.metadata.namespace!);
    };
    this.configMaps.addHandler({ update: (_, cm) => ours(cm), delete: ours });
  }

  async reconcile(namespace: string): Promise<void> {
    const ca = this.ctx.config.rootCA;
    if (!ca) return;
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const current = this.configMaps.get(`${namespace}/${RootCAConfigMapName}`);
    const client = this.ctx.client.configMaps(namespace);
    try {
      if (!current) {
        await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: RootCAConfigMapName, namespace, annotations: { [DescriptionAnnotation]: Description } }, data: { 'ca.crt': ca } });
        return;
      }
      if (current.data?.['ca.crt'] === ca && current.metadata.annotations?.[DescriptionAnnotation] === Description) return;
      // A copy: the cache's object is shared. Other keys stay; ca.crt is ours.
      const next: ConfigMap = structuredClone(current);
      next.data = { ...next.data, 'ca.crt': ca };
      next.metadata.annotations = { ...next.metadata.annotations, [DescriptionAnnotation]: Description };
      await client.update(next);
    } catch (err) {
      // Our cache was behind (AlreadyExists, Conflict: the event that follows requeues us), or
      // the namespace began terminating.
      if (err instanceof ApiError && ['AlreadyExists', 'Conflict', 'NotFound', 'Forbidden'].includes(err.reason)) return;
      throw err;
    }
  }
}
