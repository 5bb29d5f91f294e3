// keel-apiserver: the Kubernetes API for kubectl and client libraries (REST), over an etcd
// v3 store (keel-store or etcd). Flags follow kube-apiserver's where they overlap.
import { scheme, storeKey, type ServiceAccount } from '@keel/api';
import { EtcdClient } from '@keel/etcd-client';
import { serveUpgradesAsRequests } from '@keel/httpstream';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { withSecurityAdmission } from './auth/admission';
import { loadSecurity } from './auth/config';
import type { Security } from './auth/security';
import { parseDuration } from './auth/flags';
import { ServiceAllocator } from './allocators/services';
import { parseCidr } from './allocators/range';
import { grpcSecurityHooks, grpcServerCredentials } from './grpc/security';
import { GrpcApiServer } from './grpc/server';
import { ensureSystemNamespaces } from './bootstrap';
import { ApiHandler } from './registry/handler';
import { defaultStrategies } from './registry/strategies';
import { eventTtl } from './storage/leases';
import { kubeletClientFromFlags, type KubeletClientConfig } from './rest/kubelet-client';
import { RestServer } from './rest/server';

function endpointList(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim().replace(/^https?:\/\//, ''))
    .filter(Boolean);
  if (list.length === 0 || list.some((e) => !/^[^:]+:\d+$/.test(e))) {
    throw new InvalidArgumentError('expected host:port[,host:port...]');
  }
  return list;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function cidr(value: string): string {
  try {
    parseCidr(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

function portRange(value: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(value);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new InvalidArgumentError('expected MIN-MAX, e.g. 30000-32767');
  return { min, max };
}

function log(entry: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), ...entry }) + '\n');
}

const program = new Command('keel-apiserver')
  .description('Keel API server: the Kubernetes REST API over an etcd v3 store')
  .requiredOption('--etcd-servers <list>', 'etcd v3 endpoints (host:port, comma-separated)', endpointList)
  .option('--bind-address <ip>', 'address to listen on', '127.0.0.1')
  .option('--secure-port <port>', 'HTTPS port, with authentication and RBAC (needs --tls-cert-file; 0 picks a free one)', port, 6443)
  .option('--insecure-port <port>', 'plain HTTP port with NO authentication or authorization, on --bind-address (tests, benchmarks)', port)
  .option('--port <port>', 'deprecated name of --insecure-port', port)
  .option('--tls-cert-file <file>', 'serving certificate (PEM, with its chain)')
  .option('--tls-private-key-file <file>', 'private key of the serving certificate')
  .option('--client-ca-file <file>', 'CA whose client certificates authenticate (CN = user, O = groups)')
  .option('--token-auth-file <file>', 'static bearer tokens, CSV: token,user,uid,"group1,group2"')
  .option('--service-account-key-file <file...>', 'keys that verify ServiceAccount tokens (PEM, repeatable)')
  .option('--service-account-signing-key-file <file>', 'private key that signs ServiceAccount tokens (TokenRequest)')
  .option('--service-account-issuer <url>', 'issuer (iss) of ServiceAccount tokens', 'https://kubernetes.default.svc')
  .option('--api-audiences <list>', 'audiences a token must carry (default: the issuer)', (v: string) => v.split(',').filter(Boolean))
  .option('--service-account-max-token-expiration <duration>', 'longest token TokenRequest signs, e.g. 48h', parseDuration, 48 * 3600)
  .option('--max-requests-inflight <n>', 'read-only requests served at once before 429 (0 = no limit)', count, 400)
  .option('--max-mutating-requests-inflight <n>', 'mutating requests served at once before 429 (0 = no limit)', count, 200)
  .option('--grpc-port <port>', 'port of the keel.v1 gRPC API for Keel\'s own parts (0 picks a free one)', port, 6444)
  .option('--service-cluster-ip-range <cidr>', 'IPv4 CIDR Service ClusterIPs come from', cidr, '10.96.0.0/16')
  .option('--service-node-port-range <min-max>', 'ports NodePort Services may use', portRange, { min: 30000, max: 32767 })
  .option('--default-not-ready-toleration-seconds <n>', 'seconds new pods tolerate a not-ready node (DefaultTolerationSeconds admission)', count, 300)
  .option('--default-unreachable-toleration-seconds <n>', 'seconds new pods tolerate an unreachable node (DefaultTolerationSeconds admission)', count, 300)
  .option('--event-ttl <duration>', 'how long Events are kept after their last write, e.g. 1h (an etcd lease on their keys)', parseDuration, 3600)
  .option('--kubelet-client-certificate <file>', "client certificate (PEM) the apiserver presents to node agents for logs, exec, attach and port-forward (with --kubelet-client-key): call them over HTTPS")
  .option('--kubelet-client-key <file>', 'key of --kubelet-client-certificate (PEM)')
  .option('--kubelet-certificate-authority <file>', "CA (PEM) of the agents' serving certificates, which must name the node's InternalIP; needed for HTTPS to agents")
  .option('--log-requests', 'log every request', false)
  .exitOverride();

async function main(): Promise<void> {
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    throw err;
  }
  const opts = program.opts<{
    etcdServers: string[];
    bindAddress: string;
    securePort: number;
    insecurePort?: number;
    port?: number;
    tlsCertFile?: string;
    tlsPrivateKeyFile?: string;
    clientCaFile?: string;
    tokenAuthFile?: string;
    serviceAccountKeyFile?: string[];
    serviceAccountSigningKeyFile?: string;
    serviceAccountIssuer: string;
    apiAudiences?: string[];
    serviceAccountMaxTokenExpiration: number;
    maxRequestsInflight: number;
    maxMutatingRequestsInflight: number;
    grpcPort: number;
    logRequests: boolean;
    serviceClusterIpRange: string;
    serviceNodePortRange: { min: number; max: number };
    defaultNotReadyTolerationSeconds: number;
    defaultUnreachableTolerationSeconds: number;
    eventTtl: number;
    kubeletClientCertificate?: string;
    kubeletClientKey?: string;
    kubeletCertificateAuthority?: string;
  }>();
  // HTTPS with authentication, or plain HTTP without, only when asked for by name.
  const insecurePort = opts.insecurePort ?? opts.port;
  if (!opts.tlsCertFile !== !opts.tlsPrivateKeyFile) usage('--tls-cert-file and --tls-private-key-file go together');
  if (!opts.tlsCertFile && insecurePort === undefined) usage('give --tls-cert-file and --tls-private-key-file to serve HTTPS, or --insecure-port for plain HTTP without authentication');
  let kubeletClient: KubeletClientConfig | undefined;
  try {
    kubeletClient = kubeletClientFromFlags({ cert: opts.kubeletClientCertificate, key: opts.kubeletClientKey, ca: opts.kubeletCertificateAuthority }, (flag, file) => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new Error(`${flag} ${file}: ${(err as Error).message}`, { cause: err });
      }
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const etcd = new EtcdClient({ endpoints: opts.etcdServers });
  const services = new ServiceAllocator(etcd, {
    serviceCidr: opts.serviceClusterIpRange,
    nodePortRange: opts.serviceNodePortRange,
    random: Math.random,
  });
  const defaultTolerationSeconds = { notReadySeconds: opts.defaultNotReadyTolerationSeconds, unreachableSeconds: opts.defaultUnreachableTolerationSeconds };
  const serviceAccounts = scheme.lookup('serviceaccounts')!;
  let signsTokens = false;
  const admission = {
    mountTokens: () => signsTokens,
    // The pod's ServiceAccount from the watch cache, for its automountServiceAccountToken.
    serviceAccount: (namespace: string, name: string) => handler.cache(serviceAccounts).objects.get(storeKey(serviceAccounts, namespace, name)) as ServiceAccount | undefined,
  };
  const handler: ApiHandler = new ApiHandler({
    etcd,
    strategies: withSecurityAdmission(defaultStrategies({ services, defaultTolerationSeconds }), admission),
    uid: randomUUID,
    random: Math.random,
    ttlSeconds: eventTtl(opts.eventTtl),
  });
  handler.namespaceInfo = scheme.lookup('namespaces');
  // The system namespaces exist before the server says it is ready; the store may still be
  // electing a leader, so keep trying for a while.
  for (let attempt = 1; ; attempt++) {
    try {
      await handler.startCaches(scheme.resources);
      const created = await ensureSystemNamespaces(handler);
      if (created.length > 0) log({ msg: 'created system namespaces', namespaces: created });
      break;
    } catch (err) {
      if (attempt >= 30) throw new Error(`cannot reach the store at ${opts.etcdServers.join(',')}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const restOptions = {
    scheme,
    handler,
    version: { major: '1', minor: '33', gitVersion: 'v1.33.0-keel.0.1.0' },
    ...(opts.logRequests ? { log } : {}),
    ...(kubeletClient ? { kubeletClient } : {}),
  };
  log({ msg: kubeletClient ? 'node agents are called over HTTPS' : 'node agents are called over plain HTTP (no --kubelet-certificate-authority)', clientCertificate: kubeletClient?.cert !== undefined });
  const servers: (Server | HttpsServer)[] = [];
  const listen = async (server: Server | HttpsServer, portNumber: number, scheme: string) => {
    // exec, attach and port-forward arrive as upgrade requests: route them like any other.
    serveUpgradesAsRequests(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(portNumber, opts.bindAddress, resolve);
    });
    servers.push(server);
    const address = server.address() as { address: string; port: number };
    log({ msg: 'serving', url: `${scheme}://${address.address}:${address.port}`, etcd: opts.etcdServers });
  };
  const serverOptions = { requestTimeout: 0, keepAliveTimeout: 65_000 };
  // Authentication, RBAC and in-flight limits, for every adapter that serves with TLS.
  let security: Security | undefined;
  if (opts.tlsCertFile && opts.tlsPrivateKeyFile) {
    const loaded = await loadSecurity(
      {
        tlsCertFile: opts.tlsCertFile,
        tlsPrivateKeyFile: opts.tlsPrivateKeyFile,
        ...(opts.clientCaFile ? { clientCaFile: opts.clientCaFile } : {}),
        ...(opts.tokenAuthFile ? { tokenAuthFile: opts.tokenAuthFile } : {}),
        ...(opts.serviceAccountKeyFile ? { serviceAccountKeyFiles: opts.serviceAccountKeyFile } : {}),
        ...(opts.serviceAccountSigningKeyFile ? { serviceAccountSigningKeyFile: opts.serviceAccountSigningKeyFile } : {}),
        serviceAccountIssuer: opts.serviceAccountIssuer,
        ...(opts.apiAudiences ? { apiAudiences: opts.apiAudiences } : {}),
        serviceAccountMaxTokenExpirationSeconds: opts.serviceAccountMaxTokenExpiration,
        maxRequestsInflight: opts.maxRequestsInflight,
        maxMutatingRequestsInflight: opts.maxMutatingRequestsInflight,
      },
      { scheme, handler, log },
    );
    security = loaded.security;
    signsTokens = opts.serviceAccountSigningKeyFile !== undefined;
    const secure = new RestServer({ ...restOptions, filter: security.filter, extraGroups: security.discovery });
    await listen(createHttpsServer({ ...serverOptions, ...loaded.tls }, secure.listener), opts.securePort, 'https');
  }
  if (insecurePort !== undefined) {
    log({ msg: 'serving plain HTTP with no authentication or authorization', port: insecurePort });
    await listen(createServer(serverOptions, new RestServer(restOptions).listener), insecurePort, 'http');
  }
  // The keel.v1 gRPC API: the second adapter over the same handler, behind the same TLS,
  // authentication and RBAC as HTTPS; without TLS flags it is as open as --insecure-port.
  const grpcApi = new GrpcApiServer({ scheme, handler, ...(security ? grpcSecurityHooks(security) : {}), ...(opts.logRequests ? { log } : {}) });
  const host = opts.bindAddress.includes(':') ? `[${opts.bindAddress}]` : opts.bindAddress;
  const grpcCredentials =
    security && opts.tlsCertFile && opts.tlsPrivateKeyFile
      ? grpcServerCredentials({ certFile: opts.tlsCertFile, keyFile: opts.tlsPrivateKeyFile, ...(opts.clientCaFile ? { clientCaFile: opts.clientCaFile } : {}) })
      : undefined;
  const grpcPort = await grpcApi.listen(`${host}:${opts.grpcPort}`, grpcCredentials);
  log({ msg: grpcCredentials ? 'serving gRPC with TLS' : 'serving gRPC in plain text with no authentication or authorization', address: `${host}:${grpcPort}` });
  const stop = () => {
    log({ msg: 'stopping' });
    handler.stop();
    void grpcApi.stop();
    let open = servers.length;
    for (const server of servers) {
      server.close(() => {
        if (--open > 0) return;
        etcd.close();
        process.exit(0);
      });
      server.closeAllConnections();
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function usage(message: string): never {
  process.stderr.write(`keel-apiserver: ${message}\n`);
  process.exit(2);
}

main().catch((err: unknown) => {
  process.stderr.write(`keel-apiserver: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
