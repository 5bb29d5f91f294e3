// keel-agent: the node agent — the kubelet (src/kubelet: registers the node, runs the pods
// bound to it through containerd's CRI) and the proxy (src/proxy: Services → iptables),
// both fed from the apiserver's keel.v1 gRPC API. Logs are JSON lines. SIGTERM stops
// watching and syncing and exits; pods keep running and iptables rules stay, as with
// kubelet and kube-proxy, and the next agent adopts both. --hollow swaps containerd for an
// in-memory runtime (kubelet/hollow.ts) so one machine can register hundreds of nodes for
// control-plane scale tests; it says so in its logs and in the node's labels. Prometheus
// /metrics (the proxy's sync series, the kubelet's pod workers) and /healthz are served
// on --metrics-bind-address, as kube-proxy does. The node endpoint (--address/--port: logs,
// exec, attach, port-forward) serves HTTPS with --tls-cert-file and, with --client-ca-file,
// only to callers whose client certificate that CA signed and --authorized-user/-group lists.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { EndpointSlice, KubeObject, Node, Service } from '@keel/api';
import { Client, clientFromFiles, Informer, parseApiserverAddresses } from '@keel/client';
import { CriClient, normalizeEndpoint } from '@keel/cri';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { quantityValue } from './kubelet/env';
import { HollowRuntime } from './kubelet/hollow';
import { Kubelet } from './kubelet/kubelet';
import type { LogServerTls } from './kubelet/log-server';
import { DEFAULT_NODE_AUTH } from './kubelet/node-auth';
import { serveMetrics, type MetricsServer } from './metrics';
import { podRoutesFor, PodRouteSync } from './proxy/pod-routes';
import { cleanupProxy, startProxy, type ProxyEventHandler, type ProxyEventSource, type RunningProxy } from './proxy/run';

type Level = 'debug' | 'info' | 'warn' | 'error';
let verbose = false;
const log = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
  if (level === 'debug' && !verbose) return;
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields })}\n`);
};

function address(value: string): string {
  // One host:port, or several IPv4 apiservers comma-separated (the client fails over).
  try {
    return parseApiserverAddresses(value).join(',');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** One host:port to listen on (IPv4, or [IPv6]). */
function listenAddress(value: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|\d{1,3}(?:\.\d{1,3}){3}|localhost):(\d+)$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError('expected host:port, e.g. 127.0.0.1:10249');
  return value;
}

function cidr(value: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) throw new InvalidArgumentError('expected an IPv4 CIDR such as 10.244.1.0/24');
  return value;
}

function ipv4(value: string): string {
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(value)) throw new InvalidArgumentError('expected an IPv4 address');
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function list(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter(Boolean);
}

function quantity(value: string): number {
  try {
    return quantityValue(value);
  } catch {
    throw new InvalidArgumentError('expected a size such as 10Mi');
  }
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError('expected a whole number ≥ 2');
  return n;
}

function endpoint(value: string): string {
  try {
    return normalizeEndpoint(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function keelDir(value: string): string {
  const dir = resolve(value);
  if (!basename(dir).startsWith('keel-')) throw new InvalidArgumentError('the folder must be named keel-…');
  return dir;
}

const program = new Command('keel-agent')
  .description('Keel node agent: runs the pods bound to this node on containerd (kubelet) and routes Services with iptables (proxy)')
  .option('--container-runtime-endpoint <unix:///path>', "containerd's CRI socket (required unless --hollow)", endpoint)
  .requiredOption('--root-dir <dir>', 'the agent\'s folder (named keel-…): pod volumes and logs', keelDir)
  .option('--node-name <name>', 'the Node to register', hostname())
  .option('--apiserver <host:port>', "the apiserver's keel.v1 gRPC address", address, '127.0.0.1:6444')
  .option('--certificate-authority <file>', "CA of the apiserver's certificate (PEM): connect with TLS")
  .option('--client-certificate <file>', 'client certificate (PEM) to authenticate with (system:node:<name>), with --client-key')
  .option('--client-key <file>', 'key of --client-certificate (PEM)')
  .option('--token-file <file>', 'bearer token to authenticate with')
  .option('--node-ip <ip>', "the node's address (InternalIP, hostIP, the logs endpoint)", ipv4, '127.0.0.1')
  .option('--pod-cidr <cidr>', 'pod CIDR until the controller-manager sets spec.podCIDR', cidr)
  .option('--cni-conf <file>', 'the CNI conflist whose range follows the pod CIDR (e.g. <containerd dir>/cni/net.d/10-keel.conflist)')
  .option('--cgroup-parent <path>', 'cgroup under which pod cgroups go', '/keel-pods')
  .option('--address <ip>', 'address of the logs endpoint (default: --node-ip)', ipv4)
  .option('--port <port>', 'port of the node endpoint (/containerLogs, /exec, /attach, /portForward, /healthz)', port, 10250)
  .option('--tls-cert-file <file>', 'serving certificate (PEM, with its chain) of the node endpoint: serve HTTPS (its SANs should hold --node-ip)')
  .option('--tls-private-key-file <file>', 'key of --tls-cert-file (PEM)')
  .option('--client-ca-file <file>', 'require client certificates this CA signed on the node endpoint (401 otherwise; /healthz stays open); needs --tls-cert-file')
  .option('--authorized-user <users>', 'client certificate users (CN) allowed on the node endpoint, comma-separated', list, [...DEFAULT_NODE_AUTH.users])
  .option('--authorized-group <groups>', 'client certificate groups (O) allowed on the node endpoint, comma-separated', list, [...DEFAULT_NODE_AUTH.groups])
  .option('--cluster-dns <ips>', 'resolvers for ClusterFirst pods, comma-separated', (v) => v.split(',').map(ipv4))
  .option('--cluster-domain <domain>', 'the cluster DNS domain', 'cluster.local')
  .option('--container-log-max-size <quantity>', 'rotate a container log past this size', quantity, 10 * 1024 * 1024)
  .option('--container-log-max-files <n>', 'log files kept per container (≥ 2)', count, 5)
  .option('--disable-proxy', 'run only the kubelet', false)
  .option('--service-cidr <cidr>', 'the Services CIDR (routed to a local device by the proxy)', cidr, '10.96.0.0/12')
  .option('--cluster-cidr <cidr>', 'all pods of the cluster (the proxy masquerades traffic from outside it)', cidr)
  .option('--pod-bridge <name>', 'the CNI bridge service traffic may be masqueraded out of', 'keel-cni0')
  .option('--metrics-bind-address <host:port>', 'where /metrics and /healthz are served (port 0 picks one; in use: a warning, no metrics)', listenAddress, '127.0.0.1:10249')
  .option('--disable-pod-routes', "do not route to other nodes' pod CIDRs (spec.podCIDR via their InternalIP, through keel-… links only)", false)
  .option('--hollow', 'replace containerd by an in-memory fake runtime (control-plane scale tests only: nothing runs; the node is labelled keel.io/hollow=true)', false)
  .option('--cleanup', "remove the proxy's iptables chains, routes and sysctl changes recorded under --root-dir, then exit (after the agent stopped)", false)
  .option('-v, --verbose', 'debug logs', false)
  .exitOverride();

interface Options {
  containerRuntimeEndpoint?: string;
  hollow: boolean;
  rootDir: string;
  nodeName: string;
  apiserver: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  tokenFile?: string;
  nodeIp: string;
  podCidr?: string;
  cniConf?: string;
  cgroupParent: string;
  address?: string;
  port: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  authorizedUser: string[];
  authorizedGroup: string[];
  clusterDns?: string[];
  clusterDomain: string;
  containerLogMaxSize: number;
  containerLogMaxFiles: number;
  disableProxy: boolean;
  serviceCidr: string;
  clusterCidr?: string;
  podBridge: string;
  disablePodRoutes: boolean;
  metricsBindAddress: string;
  verbose: boolean;
  cleanup: boolean;
}

/** The node endpoint's TLS from the flags (undefined: plain HTTP); a bad combination or file names its flag. */
function nodeEndpointTls(opts: Options): LogServerTls | undefined {
  if (!opts.tlsCertFile !== !opts.tlsPrivateKeyFile) throw new Error('--tls-cert-file and --tls-private-key-file go together');
  if (!opts.tlsCertFile) {
    if (opts.clientCaFile) throw new Error('--client-ca-file needs --tls-cert-file and --tls-private-key-file: client certificates need HTTPS');
    return undefined;
  }
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${flag} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    cert: read('--tls-cert-file', opts.tlsCertFile),
    key: read('--tls-private-key-file', opts.tlsPrivateKeyFile!),
    ...(opts.clientCaFile ? { clientCa: read('--client-ca-file', opts.clientCaFile) } : {}),
    authorized: { users: opts.authorizedUser, groups: opts.authorizedGroup },
  };
}

/** Services and EndpointSlices from informers, for the proxy. */
function informerSource(client: Client): ProxyEventSource {
  return {
    subscribe(handler: ProxyEventHandler) {
      const onError = (what: string) => (err: unknown, context: string) => log('warn', `${what} informer`, { context, error: String(err) });
      const services = new Informer<Service>(client.services(), { onError: onError('services') });
      const slices = new Informer<EndpointSlice>(client.endpointSlices(), { onError: onError('endpointslices') });
      const wire = <T extends KubeObject>(inf: Informer<T>, fn: (type: 'upsert' | 'delete', o: T) => void) =>
        inf.addEventHandler({ add: (o) => fn('upsert', o), update: (_, o) => fn('upsert', o), delete: (o) => fn('delete', o) });
      wire(services, (t, o) => handler.service(t, o));
      wire(slices, (t, o) => handler.endpointSlice(t, o));
      services.start();
      slices.start();
      let stopped = false;
      const waitSynced = async () => {
        while (!stopped && !(services.hasSynced() && slices.hasSynced())) await new Promise((r) => setTimeout(r, 50));
        if (!stopped) handler.synced();
      };
      void waitSynced();
      return () => {
        stopped = true;
        services.stop();
        slices.stop();
      };
    },
  };
}

/**
 * Keeps a route to every other node's pod CIDR through its InternalIP (nodes on this
 * machine, each in its own network namespace), from a Node informer; answers a stop function.
 */
function routeToOtherNodes(client: Client, proxy: RunningProxy, self: { name: string; ip: string }): () => void {
  const nodes = new Informer<Node>(client.nodes(), { onError: (err, context) => log('warn', 'nodes informer', { context, error: String(err) }) });
  const sync = new PodRouteSync({ apply: (routes) => proxy.setPodRoutes(routes), log });
  const update = () => {
    if (nodes.hasSynced()) sync.set(podRoutesFor(nodes.store.list(), self));
  };
  nodes.addEventHandler({ add: update, update, delete: update });
  nodes.start();
  void nodes.waitForSync().then(update);
  return () => {
    nodes.stop();
    sync.stop();
  };
}

async function main(): Promise<void> {
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    throw err;
  }
  const opts = program.opts<Options>();
  verbose = opts.verbose;
  if (opts.cleanup) {
    // Kube-proxy's --cleanup: what the proxy left on the node (it leaves its rules in place on
    // a normal stop, so traffic keeps flowing while an agent restarts).
    const removed = await cleanupProxy({ recordFile: join(opts.rootDir, 'proxy-network.json') });
    log('info', 'proxy cleaned up', { removed: removed.length });
    return;
  }
  if (!opts.hollow && !opts.containerRuntimeEndpoint) {
    process.stderr.write("error: required option '--container-runtime-endpoint <unix:///path>' not specified (or --hollow)\n");
    process.exit(2);
  }
  let tls: LogServerTls | undefined;
  try {
    tls = nodeEndpointTls(opts);
  } catch (err) {
    process.stderr.write(`keel-agent: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (!tls?.clientCa) {
    // As kubelet with anonymous auth: say so loudly, since exec into any pod is one request away.
    log('warn', `the node endpoint is UNAUTHENTICATED (${tls ? 'HTTPS without --client-ca-file' : 'plain HTTP: no --tls-cert-file'}): anyone who reaches it can read logs and exec into pods`, {
      address: `${opts.address ?? opts.nodeIp}:${opts.port}`,
    });
  }
  let client: Client;
  try {
    client = clientFromFiles({
      address: opts.apiserver,
      ...(opts.certificateAuthority ? { certificateAuthority: opts.certificateAuthority } : {}),
      ...(opts.clientCertificate ? { clientCertificate: opts.clientCertificate } : {}),
      ...(opts.clientKey ? { clientKey: opts.clientKey } : {}),
      ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
    });
  } catch (err) {
    process.stderr.write(`keel-agent: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const criClient = opts.hollow ? undefined : new CriClient(opts.containerRuntimeEndpoint!);
  const cri = criClient ?? new HollowRuntime();
  if (opts.hollow) log('warn', 'HOLLOW NODE: an in-memory fake runtime replaces containerd; pods are reported Running but nothing runs (scale tests only)', { node: opts.nodeName });
  const kubelet = new Kubelet({
    client,
    cri,
    nodeName: opts.nodeName,
    nodeIP: opts.nodeIp,
    rootDir: opts.rootDir,
    cgroupParent: opts.cgroupParent,
    podCidr: opts.podCidr,
    cniConflist: opts.cniConf,
    address: opts.address,
    port: opts.port,
    ...(tls ? { tls } : {}),
    clusterDNS: opts.clusterDns,
    clusterDomain: opts.clusterDomain,
    nodeLabels: opts.hollow ? { 'keel.io/hollow': 'true' } : undefined,
    containerLogMaxBytes: opts.containerLogMaxSize,
    containerLogMaxFiles: opts.containerLogMaxFiles,
    log,
  });
  let proxy: RunningProxy | undefined;
  let stopRoutes: (() => void) | undefined;
  let metrics: MetricsServer | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping; pods keep running', { signal });
    stopRoutes?.();
    await kubelet.stop().catch((err) => log('warn', 'kubelet stop', { error: String(err) }));
    await proxy?.stop().catch((err) => log('warn', 'proxy stop', { error: String(err) }));
    await metrics?.close();
    client.close();
    criClient?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  try {
    await kubelet.start();
    if (!opts.disableProxy && !opts.hollow) {
      proxy = await startProxy({
        source: informerSource(client),
        serviceCidr: opts.serviceCidr,
        nodeIps: [opts.nodeIp],
        podBridges: [opts.podBridge],
        clusterCidr: opts.clusterCidr,
        recordFile: join(opts.rootDir, 'proxy-network.json'),
        log,
      });
      if (!opts.disablePodRoutes) stopRoutes = routeToOtherNodes(client, proxy, { name: opts.nodeName, ip: opts.nodeIp });
    }
    // Hollow nodes come by the hundred on one machine: they serve metrics only when asked.
    if (!opts.hollow || program.getOptionValueSource('metricsBindAddress') !== 'default') {
      const at = opts.metricsBindAddress.lastIndexOf(':');
      const host = opts.metricsBindAddress.slice(0, at).replace(/^\[|\]$/g, '');
      try {
        metrics = await serveMetrics(host, Number(opts.metricsBindAddress.slice(at + 1)), () => kubelet.metricsText() + (proxy?.proxier.metricsText() ?? ''));
        log('info', 'serving /metrics and /healthz', { address: `${host}:${metrics.port}` });
      } catch (err) {
        // Another agent on this machine may hold the port: metrics are not worth refusing to run.
        log('warn', 'not serving /metrics', { address: opts.metricsBindAddress, error: (err as Error).message });
      }
    }
  } catch (err) {
    log('error', 'cannot start', { error: (err as Error).message });
    await kubelet.stop().catch(() => undefined);
    client.close();
    criClient?.close();
    process.exit(1);
  }
  log('info', 'keel-agent running', { node: opts.nodeName, apiserver: opts.apiserver, runtime: opts.containerRuntimeEndpoint, proxy: !opts.disableProxy && !opts.hollow, hollow: opts.hollow });
}

void main();
