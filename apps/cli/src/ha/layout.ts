// The shape of `keel up --ha`, as data: which hosts exist (three control-plane hosts and
// some workers, each a network namespace with its own IP on the keel-ha0 bridge), which
// ports each part listens on inside its host, and the command line of every part. Pure:
// nothing here starts or reads anything, so every flag is checked by unit tests, and the
// cluster code (cluster.ts) only runs what this file says.

/** The default name prefix (hosts keel-ha-cp1.., bridge keel-ha0) and the hosts' /24. */
export const HA_PREFIX = 'keel-ha';
export const HA_SUBNET = '10.241.0.0/24';
/** Every pod of the HA cluster; the controller-manager gives each node a /24 of it. */
export const HA_CLUSTER_CIDR = '10.247.0.0/16';
/** Service ClusterIPs: the apiserver's default --service-cluster-ip-range, as `keel up` keeps it. */
export const SERVICE_CIDR = '10.96.0.0/16';

/** Ports inside each host; hosts have their own addresses, so every host uses the same ones. */
export const PORTS = {
  storeClient: 2379,
  storePeer: 2380,
  storeMetrics: 2381,
  apiserverHttps: 6443,
  apiserverGrpc: 6444,
  controllerManagerHealth: 10257,
  schedulerHealth: 10259,
  agent: 10250,
} as const;

export type HostRole = 'control-plane' | 'worker';

export interface HaHost {
  /** The host's name: its network namespace's name and, for a worker, its Node's name. */
  name: string;
  role: HostRole;
  ip: string;
}

export interface HaLayout {
  /** Name prefix of every host and link (keel-…). */
  prefix: string;
  /** The root-side bridge joining the hosts, and its subnet (the machine is its .1). */
  bridge: { name: string; subnet: string; gateway: string };
  controlPlanes: HaHost[];
  workers: HaHost[];
}

export const MAX_CONTROL_PLANES = 7;
export const MAX_WORKERS = 9;

export interface LayoutOptions {
  controlPlanes?: number;
  workers?: number;
  /** keel-… name prefix; default keel-ha. Two clusters at once need two prefixes and subnets. */
  prefix?: string;
  /** An IPv4 /24 for the hosts; default 10.241.0.0/24. */
  subnet?: string;
}

/** <prefix>-cp1..N on .11.., <prefix>-w1..M on .21.. (their pods get /24s of 10.247.0.0/16 from the controller-manager). */
export function haLayout(opts: LayoutOptions = {}): HaLayout {
  const cps = opts.controlPlanes ?? 3;
  const workers = opts.workers ?? 2;
  const prefix = opts.prefix ?? HA_PREFIX;
  const subnet = opts.subnet ?? HA_SUBNET;
  if (!Number.isInteger(cps) || cps < 1 || cps > MAX_CONTROL_PLANES || cps % 2 === 0) {
    throw new Error(`--control-planes: expected an odd number from 1 to ${MAX_CONTROL_PLANES} (a store of an even size tolerates no more failures than one fewer), got ${cps}`);
  }
  if (!Number.isInteger(workers) || workers < 0 || workers > MAX_WORKERS) throw new Error(`--workers: expected 0 to ${MAX_WORKERS}, got ${workers}`);
  // The bridge is <prefix>0 and a link name has at most 15 characters.
  if (!/^keel-[a-z0-9-]{1,9}$/.test(prefix)) throw new Error(`HA prefix must be keel- and 1-9 lower-case letters, digits or dashes, got "${prefix}"`);
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || m.slice(1, 4).some((o) => Number(o) > 255)) throw new Error(`HA subnet must be an IPv4 a.b.c.0/24, got "${subnet}"`);
  const net = `${m[1]}.${m[2]}.${m[3]}`;
  return {
    prefix,
    bridge: { name: `${prefix}0`, subnet, gateway: `${net}.1` },
    controlPlanes: Array.from({ length: cps }, (_, i) => ({ name: `${prefix}-cp${i + 1}`, role: 'control-plane' as const, ip: `${net}.${11 + i}` })),
    workers: Array.from({ length: workers }, (_, i) => ({ name: `${prefix}-w${i + 1}`, role: 'worker' as const, ip: `${net}.${21 + i}` })),
  };
}

export function allHosts(layout: HaLayout): HaHost[] {
  return [...layout.controlPlanes, ...layout.workers];
}

export function findHost(layout: HaLayout, name: string): HaHost {
  const host = allHosts(layout).find((h) => h.name === name);
  if (!host) throw new Error(`no host ${name} in this HA cluster (hosts: ${allHosts(layout).map((h) => h.name).join(', ')})`);
  return host;
}

/** The etcd v3 endpoints of the store's members, `ip:2379`. */
export function storeEndpoints(layout: HaLayout): string[] {
  return layout.controlPlanes.map((h) => `${h.ip}:${PORTS.storeClient}`);
}

/** The apiservers' keel.v1 addresses, `ip:6444`, with `first` (its own host) at the front. */
export function apiserverAddresses(layout: HaLayout, first?: HaHost): string[] {
  const cps = first ? [first, ...layout.controlPlanes.filter((h) => h.name !== first.name)] : layout.controlPlanes;
  return cps.map((h) => `${h.ip}:${PORTS.apiserverGrpc}`);
}

export function apiserverUrl(host: HaHost): string {
  return `https://${host.ip}:${PORTS.apiserverHttps}`;
}

/** Where a part's files are: every host has its own folder under the cluster's. */
export interface HostPaths {
  /** <cluster dir>/<host name> */
  hostDir: string;
}

/** Files of the cluster's PKI that the command lines name. */
export interface PkiFiles {
  caCert: string;
  apiserverCert: string;
  apiserverKey: string;
  saPublicKey: string;
  saPrivateKey: string;
  /** apiserver-kubelet-client: the apiservers' identity towards the agents. */
  kubeletClient: { cert: string; key: string };
  client(name: string): { cert: string; key: string };
  /** A worker's serving certificate for its agent endpoint (its IP in the SANs). */
  kubeletServing(node: string): { cert: string; key: string };
}

export type PartName = 'keel-store' | 'keel-apiserver' | 'keel-controller-manager' | 'keel-scheduler' | 'containerd' | 'keel-agent';

/** Parts in the order they start on a host of each role. */
export const CONTROL_PLANE_PARTS: PartName[] = ['keel-store', 'keel-apiserver', 'keel-controller-manager', 'keel-scheduler'];

export interface StoreTiming {
  heartbeatMs: number;
  electionMs: number;
}

/** The store's election timing: etcd's defaults, which a loaded two-core machine still keeps. */
export const DEFAULT_STORE_TIMING: StoreTiming = { heartbeatMs: 100, electionMs: 1000 };

/** keel-store on a control-plane host: one member of the cluster of all control-plane hosts. */
export function storeArgs(layout: HaLayout, host: HaHost, dataDir: string, timing: StoreTiming = DEFAULT_STORE_TIMING): string[] {
  const initialCluster = layout.controlPlanes.map((h) => `${h.name}=http://${h.ip}:${PORTS.storePeer}`).join(',');
  return [
    `--name=${host.name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=http://${host.ip}:${PORTS.storeClient}`,
    `--listen-peer-urls=http://${host.ip}:${PORTS.storePeer}`,
    `--listen-metrics-urls=http://${host.ip}:${PORTS.storeMetrics}`,
    `--initial-cluster=${initialCluster}`,
    // A member that restarts has its data and ignores this, as etcd does.
    '--initial-cluster-state=new',
    '--initial-cluster-token=keel-ha',
    `--heartbeat-interval=${timing.heartbeatMs}`,
    `--election-timeout=${timing.electionMs}`,
  ];
}

/**
 * keel-apiserver on a control-plane host: every store member, its own host's first (the
 * client uses the first that answers, so a healthy cluster keeps each apiserver's reads local).
 */
export function apiserverArgs(layout: HaLayout, host: HaHost, pki: PkiFiles): string[] {
  const etcd = [host, ...layout.controlPlanes.filter((h) => h.name !== host.name)].map((h) => `${h.ip}:${PORTS.storeClient}`);
  return [
    '--etcd-servers',
    etcd.join(','),
    '--bind-address',
    host.ip,
    '--secure-port',
    String(PORTS.apiserverHttps),
    '--grpc-port',
    String(PORTS.apiserverGrpc),
    '--tls-cert-file',
    pki.apiserverCert,
    '--tls-private-key-file',
    pki.apiserverKey,
    '--client-ca-file',
    pki.caCert,
    '--service-account-key-file',
    pki.saPublicKey,
    '--service-account-signing-key-file',
    pki.saPrivateKey,
    '--kubelet-client-certificate',
    pki.kubeletClient.cert,
    '--kubelet-client-key',
    pki.kubeletClient.key,
    '--kubelet-certificate-authority',
    pki.caCert,
  ];
}

/**
 * keel-agent on a worker, beyond the node flags libs/hosts adds: every apiserver, the node's
 * client certificate (system:node:<name>), and its node endpoint on HTTPS with the worker's
 * serving certificate, open only to client certificates the cluster CA signed.
 */
export function workerAgentArgs(layout: HaLayout, host: HaHost, pki: PkiFiles): string[] {
  const serving = pki.kubeletServing(host.name);
  return [
    '--apiserver',
    apiserverAddresses(layout).join(','),
    ...clientFlags(pki, `node-${host.name}`),
    '--tls-cert-file',
    serving.cert,
    '--tls-private-key-file',
    serving.key,
    '--client-ca-file',
    pki.caCert,
  ];
}

/** The Leases the leader-elected parts hold (namespace kube-system), by part. */
export const LEASES: Partial<Record<PartName, string>> = {
  'keel-scheduler': 'kube-scheduler',
  'keel-controller-manager': 'keel-controller-manager',
};

function clientFlags(pki: PkiFiles, name: string): string[] {
  const c = pki.client(name);
  return ['--certificate-authority', pki.caCert, '--client-certificate', c.cert, '--client-key', c.key];
}

/** keel-scheduler on a control-plane host: leader-elected, reaching every apiserver (its own first). */
export function schedulerArgs(layout: HaLayout, host: HaHost, pki: PkiFiles): string[] {
  return [
    '--grpc-server',
    apiserverAddresses(layout, host).join(','),
    ...clientFlags(pki, 'kube-scheduler'),
    '--leader-elect',
    // The Lease status reads; the scheduler's default too (the only one its RBAC role may update).
    '--leader-elect-resource-name',
    LEASES['keel-scheduler']!,
    '--bind-address',
    host.ip,
    '--secure-port',
    String(PORTS.schedulerHealth),
  ];
}

/** Lease timing of the controller-manager: shorter than kube's 15 s/10 s/2 s, so a demo sees the hand-over. */
export const CONTROLLER_MANAGER_LEASE = { duration: '8s', renewDeadline: '6s', retryPeriod: '1s' };

/** keel-controller-manager on a control-plane host: leader-elected, every apiserver (its own first). */
export function controllerManagerArgs(layout: HaLayout, host: HaHost, pki: PkiFiles): string[] {
  return [
    '--apiserver',
    apiserverAddresses(layout, host).join(','),
    // Only namespaces/finalize goes over REST; its own host's apiserver.
    '--apiserver-url',
    apiserverUrl(host),
    ...clientFlags(pki, 'kube-controller-manager'),
    '--leader-elect',
    '--leader-elect-lease-duration',
    CONTROLLER_MANAGER_LEASE.duration,
    '--leader-elect-renew-deadline',
    CONTROLLER_MANAGER_LEASE.renewDeadline,
    '--leader-elect-retry-period',
    CONTROLLER_MANAGER_LEASE.retryPeriod,
    '--cluster-cidr',
    HA_CLUSTER_CIDR,
    '--healthz-port',
    String(PORTS.controllerManagerHealth),
  ];
}

