// FakeApi: an apiserver in memory, behind the same ApiTransport as the real one, for unit
// tests of informers, controllers and leader election. It keeps what those depend on:
// resourceVersions from one revision counter, create/update as compare-and-swap (AlreadyExists,
// Conflict, NotFound as ApiErrors), label and field selectors, watches that resume from a
// resourceVersion and answer 410 Expired once `compact()` dropped the history they need,
// and switches to make calls fail or streams break. It does not keep Kubernetes' finer
// rules (defaulting, validation, graceful deletion, status split): deletes are immediate.
import {
  ApiError,
  ApiErrors,
  applyJsonPatch,
  applyMergePatch,
  compileFieldSelector,
  parseLabelSelectorParam,
  scheme,
  type KubeObject,
  type List,
  type PatchJsonValue,
  type WatchEventType,
} from '@keel/api';
import type {
  ApiTransport,
  CallOptions,
  DeleteOptions,
  GroupVersionResource,
  ListOptions,
  PatchOptions,
  PatchType,
  WatchHandle,
  WatchHandlers,
  SubresourceTarget,
  WatchOptions,
  WriteOptions,
} from './transport';

type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'watch' | 'bind';

interface Change {
  resource: string;
  type: Exclude<WatchEventType, 'BOOKMARK' | 'ERROR'>;
  object: KubeObject;
  revision: number;
}

interface FakeWatch {
  resource: string;
  namespace: string | undefined;
  matches: (o: KubeObject) => boolean;
  handlers: WatchHandlers;
  open: boolean;
  /** The newest revision this watch has been given (a change is never sent twice). */
  seen: number;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function resourceKey(gvr: GroupVersionResource): string {
  return `${gvr.group}/${gvr.resource}`;
}

export class FakeApi implements ApiTransport {
  revision = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: Change[] = [];
  /** History holds every change after this revision. */
  private oldest = 1;
  private readonly watches = new Set<FakeWatch>();
  private readonly failures = new Map<Verb, ApiError[]>();
  private uidCounter = 0;
  /** Create subresources a test serves, by `resource/subresource` (e.g. `serviceaccounts/token`): the answer to a POST. */
  readonly subresources = new Map<string, (namespace: string | undefined, name: string, body: KubeObject) => KubeObject>();
  /** Every call, as `verb resource[/namespace/name]`, for assertions. */
  readonly calls: string[] = [];

  constructor(private readonly now: () => Date = () => new Date(0)) {}

  /** The next `verb` call fails with `err` (queue several for several calls). */
  failNext(verb: Verb, err: ApiError = new ApiError('ServiceUnavailable', 'injected failure')): void {
    const list = this.failures.get(verb) ?? [];
    list.push(err);
    this.failures.set(verb, list);
  }

  /** Forgets the change history: a watch from an older resourceVersion gets 410 Expired. */
  compact(): void {
    this.history = [];
    this.oldest = this.revision;
  }

  /** Ends every open watch: plainly (as a server timeout) or with an error. */
  endWatches(err?: ApiError): void {
    for (const w of [...this.watches]) {
      w.open = false;
      this.watches.delete(w);
      w.handlers.end(err);
    }
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Stores an object directly (no events' worth of checks), as a fixture. */
  seed(gvr: GroupVersionResource, object: KubeObject): KubeObject {
    return this.write(gvr, copy(object), 'ADDED');
  }

  private check(verb: Verb, what: string): void {
    this.calls.push(`${verb} ${what}`);
    const err = this.failures.get(verb)?.shift();
    if (err) throw err;
  }

  private bucket(gvr: GroupVersionResource): Map<string, KubeObject> {
    const key = resourceKey(gvr);
    let m = this.objects.get(key);
    if (!m) this.objects.set(key, (m = new Map()));
    return m;
  }

  private write(gvr: GroupVersionResource, object: KubeObject, type: Change['type']): KubeObject {
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    object.metadata.resourceVersion = String(++this.revision);
    if (type === 'DELETED') this.bucket(gvr).delete(key);
    else this.bucket(gvr).set(key, object);
    const change: Change = { resource: resourceKey(gvr), type, object: copy(object), revision: this.revision };
    this.history.push(change);
    // Delivered after the write returns, as a real watch stream would.
    queueMicrotask(() => {
      for (const w of this.watches) if (w.open) this.deliver(w, change);
    });
    return copy(object);
  }

  private deliver(w: FakeWatch, change: Change): void {
    if (change.revision <= w.seen) return;
    w.seen = change.revision;
    if (change.resource !== w.resource) return;
    if (w.namespace && change.object.metadata.namespace !== w.namespace) return;
    if (!w.matches(change.object)) return;
    w.handlers.event({ type: change.type, object: copy(change.object) });
  }

  private matcher(gvr: GroupVersionResource, opts: { labelSelector?: string; fieldSelector?: string }): (o: KubeObject) => boolean {
    let labels: ReturnType<typeof parseLabelSelectorParam> | undefined;
    try {
      labels = opts.labelSelector ? parseLabelSelectorParam(opts.labelSelector) : undefined;
    } catch (err) {
      throw ApiErrors.badRequest(`unable to parse requirement: ${(err as Error).message}`);
    }
    const fields = opts.fieldSelector ? compileFieldSelector(gvr.resource, opts.fieldSelector).matches : undefined;
    return (o) => (!labels || labels.matches(o.metadata.labels ?? {})) && (!fields || fields(o));
  }

  private find(gvr: GroupVersionResource, namespace: string | undefined, name: string): KubeObject {
    const found = this.bucket(gvr).get(`${namespace ?? ''}/${name}`);
    if (!found) throw ApiErrors.notFound(gvr, name);
    return found;
  }

  async get(gvr: GroupVersionResource, namespace: string | undefined, name: string, _opts?: CallOptions): Promise<KubeObject> {
    this.check('get', `${gvr.resource}/${namespace ?? ''}/${name}`);
    return copy(this.find(gvr, namespace, name));
  }

  async list(gvr: GroupVersionResource, namespace: string | undefined, opts: ListOptions = {}): Promise<List<KubeObject>> {
    this.check('list', gvr.resource);
    const matches = this.matcher(gvr, opts);
    const items = [...this.bucket(gvr).values()].filter((o) => (!namespace || o.metadata.namespace === namespace) && matches(o));
    items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const info = scheme.byGVR(gvr);
    const apiVersion = gvr.group ? `${gvr.group}/${gvr.version}` : gvr.version;
    return { apiVersion, kind: info?.listKind ?? 'List', metadata: { resourceVersion: String(this.revision) }, items: copy(items) };
  }

  async create(gvr: GroupVersionResource, namespace: string | undefined, object: KubeObject, opts: WriteOptions & SubresourceTarget = {}): Promise<KubeObject> {
    if (opts.subresource) {
      this.check('create', `${gvr.resource}/${opts.subresource}/${namespace ?? ''}/${opts.name ?? ''}`);
      const serve = this.subresources.get(`${gvr.resource}/${opts.subresource}`);
      if (!serve) throw new ApiError('NotFound', 'the server could not find the requested resource');
      this.find(gvr, namespace, opts.name ?? '');
      return copy(serve(namespace, opts.name ?? '', copy(object)));
    }
    const obj = copy(object);
    if (namespace) obj.metadata.namespace = namespace;
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${(++this.uidCounter).toString(36).padStart(5, 'x')}`;
    const name = obj.metadata.name ?? '';
    this.check('create', `${gvr.resource}/${namespace ?? ''}/${name}`);
    if (!name) throw ApiErrors.invalid({ kind: obj.kind ?? gvr.resource }, '', [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
    if (this.bucket(gvr).has(`${obj.metadata.namespace ?? ''}/${name}`)) throw ApiErrors.alreadyExists(gvr, name);
    obj.metadata.uid = `fake-uid-${++this.uidCounter}`;
    obj.metadata.creationTimestamp = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (opts.dryRun) return obj;
    return this.write(gvr, obj, 'ADDED');
  }

  private replace(gvr: GroupVersionResource, current: KubeObject, next: KubeObject, opts: WriteOptions): KubeObject {
    const sent = next.metadata.resourceVersion;
    if (sent && sent !== current.metadata.resourceVersion) {
      throw ApiErrors.conflict(gvr, current.metadata.name ?? '', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    next.metadata = { ...next.metadata, name: current.metadata.name, namespace: current.metadata.namespace, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp };
    if (opts.dryRun) return copy(next);
    return this.write(gvr, next, 'MODIFIED');
  }

  async update(gvr: GroupVersionResource, namespace: string | undefined, name: string, object: KubeObject, opts: WriteOptions & { subresource?: string } = {}): Promise<KubeObject> {
    this.check('update', `${gvr.resource}/${namespace ?? ''}/${name}`);
    const current = this.find(gvr, namespace, name);
    return this.replace(gvr, current, copy(object), opts);
  }

  async patch(gvr: GroupVersionResource, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: PatchOptions & { subresource?: string } = {}): Promise<KubeObject> {
    this.check('patch', `${gvr.resource}/${namespace ?? ''}/${name}`);
    if (type === 'apply') throw ApiErrors.badRequest('FakeApi does not implement server-side apply');
    const current = this.find(gvr, namespace, name);
    const doc = copy(current) as unknown as PatchJsonValue;
    const next = (type === 'json' ? applyJsonPatch(doc, patch) : applyMergePatch(doc, patch as PatchJsonValue)) as unknown as KubeObject;
    return this.replace(gvr, current, next, opts);
  }

  async delete(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ object: KubeObject; removed: boolean }> {
    this.check('delete', `${gvr.resource}/${namespace ?? ''}/${name}`);
    const current = this.find(gvr, namespace, name);
    const pre = opts.preconditions;
    if ((pre?.uid && pre.uid !== current.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)) {
      throw ApiErrors.conflict(gvr, name, 'Precondition failed');
    }
    if (opts.dryRun) return { object: copy(current), removed: true };
    return { object: this.write(gvr, copy(current), 'DELETED'), removed: true };
  }

  async deleteCollection(gvr: GroupVersionResource, namespace: string | undefined, opts: ListOptions & DeleteOptions = {}): Promise<List<KubeObject>> {
    const listed = await this.list(gvr, namespace, opts);
    for (const item of listed.items) await this.delete(gvr, item.metadata.namespace, item.metadata.name!, opts);
    return listed;
  }

  async bind(namespace: string, name: string, nodeName: string, opts: WriteOptions & { uid?: string } = {}): Promise<KubeObject> {
    this.check('bind', `pods/${namespace}/${name}`);
    const gvr = { group: '', version: 'v1', resource: 'pods' };
    const pod = copy(this.find(gvr, namespace, name)) as KubeObject & { spec?: { nodeName?: string } };
    if (opts.uid && opts.uid !== pod.metadata.uid) throw ApiErrors.conflict(gvr, name, 'the UID in the binding does not match');
    if (pod.spec?.nodeName) throw ApiErrors.conflict(gvr, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec = { ...pod.spec, nodeName };
    return this.write(gvr, pod, 'MODIFIED');
  }

  watch(gvr: GroupVersionResource, namespace: string | undefined, opts: WatchOptions, handlers: WatchHandlers): WatchHandle {
    const w: FakeWatch = { resource: resourceKey(gvr), namespace, matches: () => true, handlers, open: true, seen: 0 };
    const stop = () => {
      w.open = false;
      this.watches.delete(w);
    };
    const established = new Promise<void>((resolve, reject) => {
      queueMicrotask(() => {
        if (!w.open) return reject(new ApiError('Timeout', 'the watch was stopped'));
        try {
          this.check('watch', gvr.resource);
          w.matches = this.matcher(gvr, opts);
        } catch (err) {
          stop();
          handlers.end(err as ApiError);
          return reject(err);
        }
        const from = opts.resourceVersion && opts.resourceVersion !== '0' ? Number(opts.resourceVersion) : 0;
        if (from && from < this.oldest) {
          stop();
          handlers.end(ApiErrors.gone(`too old resource version: ${from} (${this.oldest})`));
          return reject(new ApiError('Expired', 'too old resource version'));
        }
        if (!from) {
          for (const o of this.bucket(gvr).values()) {
            if ((!namespace || o.metadata.namespace === namespace) && w.matches(o)) handlers.event({ type: 'ADDED', object: copy(o) });
          }
          w.seen = this.revision;
        } else {
          for (const change of this.history) if (change.revision > from) this.deliver(w, change);
        }
        this.watches.add(w);
        resolve();
      });
    });
    established.catch(() => undefined);
    return { established, stop };
  }

  close(): void {
    this.endWatches();
  }
}
