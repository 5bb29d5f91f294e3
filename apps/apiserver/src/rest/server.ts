// The REST adapter: Kubernetes' HTTP API over the one ApiHandler, for kubectl and the
// official clients (see KUBECTL-WIRE.md for what they send). It parses paths, query
// parameters and bodies, negotiates JSON or Table output, streams watches as newline-
// delimited JSON events with bookmarks, applies the four patch types, serves discovery and
// the small OpenAPI v3 document kubectl validates against, and renders every failure as a
// meta/v1 Status with the right HTTP code.
import {
  ApiError,
  ApiErrors,
  formatGroupVersion,
  type DeleteOptions,
  type KubeObject,
  type PatchJsonValue,
  type ResourceInfo,
  type Scheme,
  type APIGroup,
  type APIResourceList,
} from '@keel/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiHandler, ListQuery, WriteOptions } from '../registry/handler';
import { PATCH_MEDIA_TYPES, patchObject, type PatchType } from '../registry/patch';
import { checkDeleteOptions, checkFieldManager, compileListQuery } from '../registry/query';
import { mediaType, parseBody, readBody } from './body';
import { aggregatedDiscovery, sendAggregatedDiscovery, wantsAggregatedDiscovery, type APIGroupDiscoveryList } from './discovery';
import { openApiDocument, openApiIndex } from './openapi';
import { notFound, parseApiPath, type ResourcePath } from './paths';
import type { KubeletClientConfig } from './kubelet-client';
import { subresourceHandlers } from './subresources';
import { toTable } from './table';

export interface RestOptions {
  scheme: Scheme;
  handler: ApiHandler;
  version: { major: string; minor: string; gitVersion: string };
  /** How often an idle watch gets a BOOKMARK, when the client allows them. */
  bookmarkIntervalMs?: number;
  now?: () => Date;
  log?: (entry: Record<string, unknown>) => void;
  /**
   * Runs around every request before routing (src/auth: authentication, max in flight,
   * RBAC, and the review endpoints it serves itself); it calls next() to go on.
   */
  filter?: (req: IncomingMessage, res: ServerResponse, next: () => Promise<void>) => Promise<void>;
  /** API groups served by the filter rather than the scheme, listed in discovery. */
  extraGroups?: readonly { group: APIGroup; resources: readonly APIResourceList[] }[];
  /** How to reach the agents for pods/log and the streams (HTTPS with a client certificate); plain HTTP without. */
  kubeletClient?: KubeletClientConfig;
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const apiErr = err instanceof ApiError ? err : ApiErrors.internal(err instanceof Error ? err.message : String(err));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (apiErr.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(apiErr.retryAfterSeconds));
  sendJson(res, apiErr.httpStatus, apiErr.toStatus());
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function flag(v: string | null): boolean {
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw ApiErrors.badRequest(`invalid value for ${name}: "${v}" is not an integer`);
  return Number(v);
}

/** The field manager of a write: as asked, else the client's name from its User-Agent. */
function fieldManager(req: IncomingMessage, q: URLSearchParams): string {
  const asked = q.get('fieldManager');
  if (asked) return checkFieldManager(asked);
  const agent = req.headers['user-agent'] ?? '';
  return agent.split('/')[0]?.trim() || 'unknown';
}

export class RestServer {
  private readonly now: () => Date;

  constructor(private readonly opts: RestOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** How subresources reach a node's agent. */
  get kubeletClient(): KubeletClientConfig | undefined {
    return this.opts.kubeletClient;
  }

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const route = () => this.route(req, res);
    (this.opts.filter ? this.opts.filter(req, res, route) : route())
      .catch((err: unknown) => sendError(res, err))
      .finally(() => {
        this.opts.log?.({ msg: 'request', verb: req.method, uri: req.url, code: res.statusCode, ms: Date.now() - started });
      });
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (method === 'GET' && (path === '/healthz' || path === '/livez' || path === '/readyz')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (method === 'GET' && path === '/version') return sendJson(res, 200, this.versionInfo());
    if (method === 'GET' && path === '/openapi/v3') return sendJson(res, 200, openApiIndex(this.opts.scheme));
    if (method === 'GET' && path.startsWith('/openapi/v3/')) {
      const doc = openApiDocument(this.opts.scheme, path.slice('/openapi/v3/'.length));
      if (!doc) throw notFound();
      return sendJson(res, 200, doc);
    }
    const parsed = parseApiPath(this.opts.scheme, path);
    if (!parsed) throw notFound();
    const { scheme } = this.opts;
    const extra = this.opts.extraGroups ?? [];
    switch (parsed.kind) {
      case 'discovery-root':
        if (method !== 'GET') throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
        if (wantsAggregatedDiscovery(req.headers.accept)) return sendAggregatedDiscovery(res, this.aggregatedDiscovery(parsed.which));
        if (parsed.which === 'api') return sendJson(res, 200, scheme.apiVersions());
        return sendJson(res, 200, { ...scheme.apiGroupList(), groups: [...scheme.apiGroupList().groups, ...extra.map((e) => e.group)] });
      case 'discovery-group': {
        const group = scheme.apiGroupList().groups.find((g) => g.name === parsed.group) ?? extra.find((e) => e.group.name === parsed.group)?.group;
        if (!group) throw notFound();
        return sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...group });
      }
      case 'discovery-version': {
        const gv = `${parsed.group}/${parsed.version}`;
        const list = scheme.apiResourceList({ group: parsed.group, version: parsed.version }) ?? extra.flatMap((e) => e.resources).find((r) => r.groupVersion === gv);
        if (!list) throw notFound();
        return sendJson(res, 200, list);
      }
      case 'resource':
        return this.resource(req, res, method, parsed.path, url.searchParams);
    }
  }

  /** `/api` (the core group) or `/apis` (every named group, the filter's too) as one APIGroupDiscoveryList. */
  private aggregatedDiscovery(which: 'api' | 'apis'): APIGroupDiscoveryList {
    const { scheme } = this.opts;
    const extra = this.opts.extraGroups ?? [];
    if (which === 'api') {
      return aggregatedDiscovery([{ name: '', versions: scheme.apiVersions().versions.flatMap((version) => scheme.apiResourceList({ group: '', version }) ?? []) }]);
    }
    const groups = [
      ...scheme.apiGroupList().groups.map((g) => ({ group: g, resources: g.versions.flatMap((v) => scheme.apiResourceList({ group: g.name, version: v.version }) ?? []) })),
      ...extra,
    ];
    return aggregatedDiscovery(
      groups.map(({ group, resources }) => {
        // Preferred version first, then the rest in the order the group lists them.
        const order = [group.preferredVersion?.groupVersion, ...group.versions.map((v) => v.groupVersion)];
        const rank = (gv: string) => order.indexOf(gv);
        return { name: group.name, versions: [...resources].sort((a, b) => rank(a.groupVersion) - rank(b.groupVersion)) };
      }),
    );
  }

  private versionInfo() {
    const { major, minor, gitVersion } = this.opts.version;
    return {
      major,
      minor,
      gitVersion,
      gitCommit: '',
      gitTreeState: 'clean',
      buildDate: '1970-01-01T00:00:00Z',
      goVersion: `node${process.versions.node}`,
      compiler: 'tsc',
      platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
    };
  }

  private listQuery(q: URLSearchParams, info: ResourceInfo): ListQuery {
    const limit = intParam(q, 'limit');
    return compileListQuery(info, {
      ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector')! } : {}),
      ...(q.get('fieldSelector') ? { fieldSelector: q.get('fieldSelector')! } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(q.get('continue') ? { continue: q.get('continue')! } : {}),
      ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
      ...(q.get('resourceVersionMatch') ? { resourceVersionMatch: q.get('resourceVersionMatch')! } : {}),
    });
  }

  writeOptions(q: URLSearchParams, req?: IncomingMessage): WriteOptions {
    const dryRun = q.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All')) throw ApiErrors.badRequest(`unsupported dryRun value; supported values: "All"`);
    return { ...(dryRun.length > 0 ? { dryRun: true } : {}), ...(req ? { fieldManager: fieldManager(req, q) } : {}) };
  }

  private async resource(req: IncomingMessage, res: ServerResponse, method: string, p: ResourcePath, q: URLSearchParams): Promise<void> {
    const { info, name, subresource } = p;
    const namespace = info.namespaced ? p.namespace : undefined;
    const { handler } = this.opts;
    if (subresource) {
      const sub = subresourceHandlers[subresource];
      if (!sub || !info.subresources.some((s) => s.name === subresource) || !name) throw notFound();
      return sub({ req, res, method, info, namespace, name, query: q, handler, rest: this });
    }
    if (!name) {
      switch (method) {
        case 'GET':
          if (flag(q.get('watch'))) return this.watch(req, res, info, namespace, q);
          return this.list(req, res, info, namespace, q);
        case 'POST': {
          const body = parseBody(await readBody(req), req.headers['content-type']);
          const created = await handler.create(info, namespace, body, this.writeOptions(q, req));
          return sendJson(res, 201, created);
        }
        case 'DELETE': {
          const options = await this.deleteOptions(req, q);
          const deleted = await handler.deleteCollection(info, namespace, this.listQuery(q, info), options, this.writeOptions(q));
          return sendJson(res, 200, deleted);
        }
        default:
          throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
      }
    }
    switch (method) {
      case 'GET': {
        const obj = await handler.get(info, namespace, name, q.get('resourceVersion') ? { resourceVersion: q.get('resourceVersion')! } : {});
        if (wantsTable(req)) return sendJson(res, 200, toTable(info, [obj], { now: this.now(), resourceVersion: obj.metadata.resourceVersion ?? '' }));
        return sendJson(res, 200, obj);
      }
      case 'PUT': {
        const body = parseBody(await readBody(req), req.headers['content-type']);
        const updated = await handler.update(info, namespace, name, () => body, this.writeOptions(q, req));
        return sendJson(res, 200, updated);
      }
      case 'PATCH': {
        const patched = await this.patch(req, info, namespace, name, q, 'main');
        return sendJson(res, patched.created ? 201 : 200, patched.object);
      }
      case 'DELETE': {
        const options = await this.deleteOptions(req, q);
        const { object } = await handler.delete(info, namespace, name, options, this.writeOptions(q));
        return sendJson(res, 200, object);
      }
      default:
        throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  }

  /** DeleteOptions from the body (kubectl sends one) and the query string. */
  async deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const raw = await readBody(req);
    let options: DeleteOptions = {};
    if (raw.length > 0) {
      const parsed = parseBody(raw, req.headers['content-type'] ?? 'application/json');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw ApiErrors.badRequest('DeleteOptions must be an object');
      options = parsed as DeleteOptions;
    }
    const grace = intParam(q, 'gracePeriodSeconds');
    if (grace !== undefined) options.gracePeriodSeconds = grace;
    const policy = q.get('propagationPolicy');
    if (policy) options.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
    return checkDeleteOptions(options);
  }

  /** Applies a PATCH of any of the four types (see registry/patch.ts). */
  async patch(
    req: IncomingMessage,
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    q: URLSearchParams,
    part: 'main' | 'status',
  ): Promise<{ object: KubeObject; created: boolean }> {
    const media = mediaType(req.headers['content-type']);
    const type = (PATCH_MEDIA_TYPES as Record<string, PatchType>)[media];
    if (!type) {
      throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_MEDIA_TYPES).join(', ')}`);
    }
    const raw = await readBody(req);
    const patch = parseBody(raw, type === 'apply' ? 'application/yaml' : 'application/json') as PatchJsonValue;
    const options = this.writeOptions(q, req);
    // Apply names its manager explicitly; the User-Agent fallback is for Update records only.
    if (type === 'apply') {
      const manager = q.get('fieldManager');
      if (manager) options.fieldManager = manager;
      else delete options.fieldManager;
    }
    return patchObject(this.opts.handler, info, namespace, name, { type, patch, part, options, force: flag(q.get('force')), now: this.now() });
  }

  private async list(req: IncomingMessage, res: ServerResponse, info: ResourceInfo, namespace: string | undefined, q: URLSearchParams): Promise<void> {
    const list = await this.opts.handler.list(info, namespace, this.listQuery(q, info));
    if (wantsTable(req)) {
      const table = toTable(info, list.items, { now: this.now(), resourceVersion: list.metadata.resourceVersion, ...(list.metadata.continue ? { continue: list.metadata.continue } : {}) });
      return sendJson(res, 200, table);
    }
    return sendJson(res, 200, list);
  }

  /** Streams watch events as JSON lines until the client leaves or timeoutSeconds pass. */
  private async watch(req: IncomingMessage, res: ServerResponse, info: ResourceInfo, namespace: string | undefined, q: URLSearchParams): Promise<void> {
    const query = this.listQuery(q, info);
    const table = wantsTable(req);
    const bookmarks = flag(q.get('allowWatchBookmarks'));
    const timeoutSeconds = intParam(q, 'timeoutSeconds') ?? 1800 + Math.floor(Math.random() * 1800);
    let open = true;
    let headerSent = false;
    let lastRevision = 0;
    let tableHeaderSent = false;
    const start = () => {
      if (headerSent) return;
      headerSent = true;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
    };
    const write = (type: string, object: unknown): boolean => {
      if (!open) return false;
      start();
      res.write(JSON.stringify({ type, object }) + '\n');
      // A client this far behind would hold memory without bound: cut it off.
      return res.writableLength < 16 * 1024 * 1024;
    };
    const finish = () => {
      if (!open) return;
      open = false;
      clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      subscription?.close();
      start();
      res.end();
    };
    let subscription: { close(): void } | undefined;
    const bookmarkTimer = setInterval(() => {
      if (bookmarks && lastRevision > 0) {
        write('BOOKMARK', { kind: info.kind, apiVersion: formatGroupVersion(info), metadata: { resourceVersion: String(lastRevision) } });
      }
    }, this.opts.bookmarkIntervalMs ?? 60_000);
    bookmarkTimer.unref();
    const timeout = setTimeout(finish, timeoutSeconds * 1000);
    timeout.unref();
    res.on('close', finish);
    try {
      subscription = await this.opts.handler.watch(info, namespace, query, {
        send: (type, object) => {
          lastRevision = Math.max(lastRevision, Number(object.metadata.resourceVersion ?? 0));
          if (!table) return write(type, object);
          const t = toTable(info, [object], { now: this.now(), resourceVersion: object.metadata.resourceVersion ?? '', headers: !tableHeaderSent });
          tableHeaderSent = true;
          return write(type, t);
        },
        progress: (revision) => {
          lastRevision = Math.max(lastRevision, revision);
        },
        end: (reason, gone) => {
          if (gone) write('ERROR', ApiErrors.gone(reason).toStatus());
          finish();
        },
      });
      if (!open) subscription.close();
      start();
      // kubectl waits for the headers before it shows anything.
      if (res.writable) res.write('');
    } catch (err) {
      clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      open = false;
      // Like kube-apiserver, a watch from a version that is gone starts fine and then says so
      // in an ERROR event; clients relist on it.
      if (!headerSent && !(err instanceof ApiError && (err.reason === 'Expired' || err.reason === 'Gone'))) {
        sendError(res, err);
      } else {
        start();
        const apiErr = err instanceof ApiError ? err : ApiErrors.internal(String(err));
        res.end(JSON.stringify({ type: 'ERROR', object: apiErr.toStatus() }) + '\n');
      }
    }
  }
}
