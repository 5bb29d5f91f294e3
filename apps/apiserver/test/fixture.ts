// An apiserver for tests: a real store on loopback — Debian's etcd 3.4, or keel-store as
// processes — and the REST server in this process, on a free port, with helpers to call it.
// Everything is removed by stop().
import { scheme } from '@keel/api';
import { EtcdClient } from '@keel/etcd-client';
import { startEtcdCluster } from '@keel/tools-etcd';
import { startStoreCluster } from '@keel/tools-store';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSystemNamespaces } from '../src/bootstrap';
import { ApiHandler } from '../src/registry/handler';
import { ServiceAllocator } from '../src/allocators/services';
import { defaultStrategies } from '../src/registry/strategies';
import { eventTtl } from '../src/storage/leases';
import { RestServer } from '../src/rest/server';
import { withSecurityAdmission } from '../src/auth/admission';
import { loadSecurity, type SecurityFlags } from '../src/auth/config';
import { secureClient } from './auth-client';
import type { TestPki } from './auth-pki';

/** HTTPS with authentication and RBAC, as keel-apiserver's flags set them; `request` then uses the admin cert. */
export interface TestSecurity {
  flags: SecurityFlags;
  caFile: string;
  admin: { certFile: string; keyFile: string };
}

/** TestSecurity from a cluster PKI: its apiserver certificate, client certificates from its CA, `request` as its admin; `more` flags beside. */
export function pkiSecurity(pki: TestPki, more: Omit<SecurityFlags, 'tlsCertFile' | 'tlsPrivateKeyFile'> = {}): TestSecurity {
  return {
    flags: { tlsCertFile: pki.apiserver.certFile, tlsPrivateKeyFile: pki.apiserver.keyFile, clientCaFile: pki.ca.certFile, ...more },
    caFile: pki.ca.certFile,
    admin: pki.clients['admin']!,
  };
}

export interface TestApiServer {
  url: string;
  etcd: EtcdClient;
  handler: ApiHandler;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** Which etcd v3 server the apiserver stores objects in. */
export type TestStore = 'etcd' | 'keel-store';

export async function startTestApiServer(
  opts: { bookmarkIntervalMs?: number; security?: TestSecurity; store?: TestStore; /** --event-ttl, in seconds (default: Events never expire) */ eventTtlSeconds?: number } = {},
): Promise<TestApiServer> {
  const work = mkdtempSync(join(tmpdir(), 'keel-apiserver-test-'));
  let cluster: { endpoints: string[]; stop(): Promise<void> } | undefined;
  let server: Server | undefined;
  let etcd: EtcdClient | undefined;
  let handler: ApiHandler | undefined;
  const stop = async () => {
    handler?.stop();
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    etcd?.close();
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    if (opts.store === 'keel-store') {
      cluster = await startStoreCluster({ members: 1 });
    } else {
      const etcdCluster = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
      cluster = { endpoints: etcdCluster.endpoints, stop: () => etcdCluster.stop({ removeData: true }) };
    }
    etcd = new EtcdClient({ endpoints: cluster.endpoints });
    const services = new ServiceAllocator(etcd, { serviceCidr: '10.96.0.0/24', nodePortRange: { min: 30000, max: 30010 }, random: Math.random });
    handler = new ApiHandler({
      etcd,
      strategies: withSecurityAdmission(defaultStrategies({ services })),
      uid: randomUUID,
      random: Math.random,
      ...(opts.eventTtlSeconds ? { ttlSeconds: eventTtl(opts.eventTtlSeconds) } : {}),
    });
    handler.namespaceInfo = scheme.lookup('namespaces');
    // As the server starts: system namespaces, then every watch cache.
    await ensureSystemNamespaces(handler);
    await handler.startCaches(scheme.resources);
    const secure = opts.security ? await loadSecurity(opts.security.flags, { scheme, handler }) : undefined;
    const rest = new RestServer({
      scheme,
      handler,
      ...(secure ? { filter: secure.security.filter, extraGroups: secure.security.discovery } : {}),
      version: { major: '1', minor: '33', gitVersion: 'v1.33.0-keel' },
      ...(opts.bookmarkIntervalMs ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}),
    });
    server = secure ? createHttpsServer(secure.tls, rest.listener) : createServer(rest.listener);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `${secure ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`;
    const asAdmin = opts.security ? secureClient(url, opts.security.caFile)({ cert: opts.security.admin }) : undefined;
    const request: TestApiServer['request'] = async (method, path, body, headers = {}) => {
      if (asAdmin) return asAdmin(method, path, body, headers);
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
      }
      const res = await fetch(url + path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // plain text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    };
    return { url, etcd, handler, request, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
