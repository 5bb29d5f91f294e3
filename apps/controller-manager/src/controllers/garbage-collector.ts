// The garbage collector: objects whose owners are all gone are deleted (Background
// propagation); an owner being deleted with the `orphan` finalizer first has its dependents'
// references to it removed, and with `foregroundDeletion` first has its dependents deleted
// (in the foreground themselves) and waits for those that block it (blockOwnerDeletion);
// then the finalizer comes off and the apiserver removes the owner. It watches every
// resource that can own or be owned, keeps an index of owner uid → dependents, and confirms
// an owner's absence with a live GET before deleting anything, since the cache may simply
// not have seen a just-created owner yet.
import {
  ApiError,
  Finalizers,
  deepCopy,
  parseGroupVersion,
  scheme,
  withoutFinalizer,
  withoutOwnerReference,
  type KubeObject,
  type OwnerReference,
  type ResourceInfo,
} from '@keel/api';
import type { GroupVersionResource } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import { gvrKey } from '../runtime/factory';
import type { Informer } from '../runtime/informer';

/** Resources the collector watches: everything listable, except the high-churn Events and Leases. */
export function collectedResources(): ResourceInfo[] {
  return scheme.resources.filter((r) => r.verbs.includes('watch') && r.verbs.includes('delete') && r.resource !== 'events' && r.resource !== 'leases');
}

interface Node {
  resource: string;
  key: string;
  uid: string;
}

const itemKey = (resource: string, obj: KubeObject) => `${resource}|${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

function parseItemKey(key: string): { resource: string; namespace?: string; name: string } {
  const [resource, rest] = key.split('|') as [string, string];
  const slash = rest.indexOf('/');
  const ns = rest.slice(0, slash);
  return { resource, ...(ns ? { namespace: ns } : {}), name: rest.slice(slash + 1) };
}

export class GarbageCollector extends Controller {
  readonly name = 'garbagecollector';
  private readonly informers = new Map<string, { info: ResourceInfo; informer: Informer<KubeObject> }>();
  /** uid → where the object is. */
  private readonly byUid = new Map<string, Node>();
  /** owner uid → item keys of the objects that name it. */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(private readonly ctx: ControllerContext) {
    super();
    for (const info of collectedResources()) {
      const resource = gvrKey(info);
      const informer = ctx.informers.for<KubeObject>(info);
      this.informers.set(resource, { info, informer });
      informer.addHandler({
        add: (obj) => this.observe(resource, undefined, obj),
        update: (old, obj) => this.observe(resource, old, obj),
        delete: (obj) => this.forget(resource, obj),
      });
    }
  }

  private observe(resource: string, old: KubeObject | undefined, obj: KubeObject): void {
    const key = itemKey(resource, obj);
    this.byUid.set(obj.metadata.uid!, { resource, key, uid: obj.metadata.uid! });
    for (const ref of old?.metadata.ownerReferences ?? []) this.dependents.get(ref.uid)?.delete(key);
    for (const ref of obj.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (!set) this.dependents.set(ref.uid, (set = new Set()));
      set.add(key);
    }
    // Work only where there is something to decide: an owner with references, or an owner
    // held by our finalizers.
    if ((obj.metadata.ownerReferences ?? []).length > 0 || this.heldByUs(obj)) this.enqueue(key);
  }

  private forget(resource: string, obj: KubeObject): void {
    const key = itemKey(resource, obj);
    this.byUid.delete(obj.metadata.uid!);
    // Its dependents may now be orphans, and its owners (waiting in the foreground) may be free.
    for (const dep of this.dependents.get(obj.metadata.uid!) ?? []) this.enqueue(dep);
    for (const ref of obj.metadata.ownerReferences ?? []) {
      this.dependents.get(ref.uid)?.delete(key);
      const owner = this.byUid.get(ref.uid);
      if (owner) this.enqueue(owner.key);
    }
  }

  private heldByUs(obj: KubeObject): boolean {
    const f = obj.metadata.finalizers ?? [];
    return obj.metadata.deletionTimestamp !== undefined && (f.includes(Finalizers.orphan) || f.includes(Finalizers.foregroundDeletion));
  }

  private lookup(key: string): { info: ResourceInfo; obj: KubeObject | undefined } | undefined {
    const { resource, namespace, name } = parseItemKey(key);
    const entry = this.informers.get(resource);
    if (!entry) return undefined;
    return { info: entry.info, obj: entry.informer.get(namespace ? `${namespace}/${name}` : name) };
  }

  private client(info: GroupVersionResource, namespace: string | undefined) {
    return this.ctx.client.resource<KubeObject>({ group: info.group, version: info.version, resource: info.resource }).namespace(namespace);
  }

  async reconcile(key: string): Promise<void> {
    const found = this.lookup(key);
    if (!found?.obj) return;
    const { info, obj } = found;
    if (this.heldByUs(obj)) return this.finishOwner(info, obj);
    if ((obj.metadata.ownerReferences ?? []).length > 0) return this.checkDependent(info, obj);
  }

  /** Whether the owner a reference names still exists, as the apiserver says (the cache may be behind). */
  private async ownerState(dependent: KubeObject, ref: OwnerReference): Promise<'present' | 'absent' | 'deletingForeground'> {
    const gv = parseGroupVersion(ref.apiVersion);
    const info = scheme.byGVK({ ...gv, kind: ref.kind });
    // An owner of a kind we do not know: leave the reference alone.
    if (!info) return 'present';
    // A cluster-scoped object cannot be owned by a namespaced one: such a reference is dangling.
    if (info.namespaced && !dependent.metadata.namespace) return 'absent';
    const namespace = info.namespaced ? dependent.metadata.namespace : undefined;
    const cached = this.byUid.get(ref.uid);
    let owner = cached ? this.lookup(cached.key)?.obj : undefined;
    if (!owner) {
      try {
        owner = await this.client(info, namespace).get(ref.name);
      } catch (err) {
        if (isNotFound(err)) return 'absent';
        throw err;
      }
    }
    if (owner.metadata.uid !== ref.uid) return 'absent';
    if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(Finalizers.foregroundDeletion)) return 'deletingForeground';
    return 'present';
  }

  private async checkDependent(info: ResourceInfo, obj: KubeObject): Promise<void> {
    const refs = obj.metadata.ownerReferences ?? [];
    const states = await Promise.all(refs.map((ref) => this.ownerState(obj, ref)));
    const absent = refs.filter((_, i) => states[i] === 'absent');
    const foreground = refs.filter((_, i) => states[i] === 'deletingForeground');
    const present = refs.length - absent.length - foreground.length;
    const client = this.client(info, obj.metadata.namespace);
    const name = obj.metadata.name!;
    if (absent.length === refs.length || (present === 0 && foreground.length > 0)) {
      if (obj.metadata.deletionTimestamp) return;
      // Every owner is gone or going: so is this. Dependents of a foreground deletion go in
      // the foreground too, so the chain is removed bottom-up.
      const propagationPolicy = foreground.length > 0 ? 'Foreground' : 'Background';
      await client.delete(name, { propagationPolicy, preconditions: { uid: obj.metadata.uid! } }).catch(ignoreGone);
      return;
    }
    if (absent.length > 0) {
      // Some owners remain: drop only the dangling references.
      let copy = deepCopy(obj);
      for (const ref of absent) copy = withoutOwnerReference(copy, ref.uid);
      await client.update(copy).catch(ignoreGone);
    }
  }

  private async finishOwner(info: ResourceInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid!;
    const deps = [...(this.dependents.get(uid) ?? [])].map((k) => this.lookup(k)).filter((d) => d?.obj) as { info: ResourceInfo; obj: KubeObject }[];
    const finalizers = owner.metadata.finalizers ?? [];
    const ownerClient = this.client(info, owner.metadata.namespace);
    if (finalizers.includes(Finalizers.orphan)) {
      for (const dep of deps) {
        await this.client(dep.info, dep.obj.metadata.namespace).update(withoutOwnerReference(deepCopy(dep.obj), uid)).catch(ignoreGone);
      }
      await ownerClient.update(withoutFinalizer(deepCopy(owner), Finalizers.orphan)).catch(ignoreGone);
      return;
    }
    // foregroundDeletion: delete the dependents, wait for the blocking ones.
    let blocking = 0;
    for (const dep of deps) {
      const ref = dep.obj.metadata.ownerReferences?.find((r) => r.uid === uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (dep.obj.metadata.deletionTimestamp) continue;
      await this.client(dep.info, dep.obj.metadata.namespace)
        .delete(dep.obj.metadata.name!, { propagationPolicy: ref?.blockOwnerDeletion ? 'Foreground' : 'Background', preconditions: { uid: dep.obj.metadata.uid! } })
        .catch(ignoreGone);
    }
    if (blocking > 0) return; // their deletions re-enqueue this owner
    await ownerClient.update(withoutFinalizer(deepCopy(owner), Finalizers.foregroundDeletion)).catch(ignoreGone);
  }
}

/** NotFound, or a uid precondition that failed (a new object with the same name): nothing to do. */
function ignoreGone(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  if (err instanceof ApiError && err.reason === 'Conflict' && /UID in the precondition/.test(err.message)) return undefined;
  throw err;
}
