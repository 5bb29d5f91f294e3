// The Node object and its heartbeat. On start the agent creates its Node (or adopts the
// one already there), then keeps two things fresh, as kubelet does since node leases:
//  - the Lease kube-node-lease/<node>, renewed every 10 s (the cheap heartbeat the node
//    lifecycle controller watches);
//  - the Node's status (capacity and allocatable from the machine, addresses, nodeInfo
//    with the runtime's version, the five conditions), written when it changed or every
//    minute.
// It also reports the pod CIDR: spec.podCIDR once the controller-manager set it, else the
// --pod-cidr flag.
import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, freemem, release, totalmem } from 'node:os';
import { ApiError, setCondition, type Lease, type Node, type NodeCondition, type NodeStatus } from '@keel/api';
import type { Client } from '@keel/client';
import type { Runtime } from './runtime';
import type { Log } from './pod-worker';

export const AgentVersion = 'v1.33.0-keel';
export const LeaseNamespace = 'kube-node-lease';

export interface NodeAgentOptions {
  client: Client;
  cri: Runtime;
  nodeName: string;
  nodeIP: string;
  rootDir: string;
  /** Port of the agent's HTTP endpoint (logs), published in daemonEndpoints. */
  port: number;
  maxPods?: number;
  /** Extra labels when the Node is created. */
  labels?: Record<string, string>;
  leaseDurationSeconds?: number;
  leaseRenewMs?: number;
  statusUpdateMs?: number;
  log: Log;
  now?: () => number;
  /** Told when spec.podCIDR is seen (first time and on change). */
  onPodCidr?: (cidr: string) => void;
}

/** Machine facts for capacity; separate so tests and hollow nodes can fake them. */
export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  freeMemoryBytes: number;
  diskBytes: number;
  diskFreeBytes: number;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  machineID: string;
  bootID: string;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

export function machineInfo(rootDir: string): MachineInfo {
  const fs = statfsSync(rootDir);
  const osRelease = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(read('/etc/os-release'))?.[1] ?? 'Linux';
  return {
    cpus: cpus().length,
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    diskBytes: fs.blocks * fs.bsize,
    diskFreeBytes: fs.bavail * fs.bsize,
    kernelVersion: release(),
    osImage: osRelease,
    architecture: arch() === 'x64' ? 'amd64' : arch(),
    machineID: read('/etc/machine-id'),
    bootID: read('/proc/sys/kernel/random/boot_id'),
  };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

/** The status the agent reports, keeping transition times of conditions that did not change. */
export function nodeStatus(
  previous: NodeStatus | undefined,
  m: MachineInfo,
  o: { nodeName: string; nodeIP: string; maxPods: number; port: number; runtimeVersion: string; runtimeReady: boolean; networkReady: boolean; runtimeMessage: string },
  now: number,
): NodeStatus {
  const ki = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;
  const capacity = { cpu: String(m.cpus), memory: ki(m.memoryBytes), pods: String(o.maxPods), 'ephemeral-storage': ki(m.diskBytes) };
  // Kubernetes reserves an eviction threshold (memory.available<100Mi) from allocatable.
  const allocatable = { ...capacity, memory: ki(Math.max(0, m.memoryBytes - 100 * 1024 * 1024)), 'ephemeral-storage': String(Math.floor(m.diskBytes * 0.9)) };
  const hb = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const memoryPressure = m.freeMemoryBytes < 100 * 1024 * 1024;
  const diskPressure = m.diskFreeBytes < m.diskBytes * 0.1;
  const cond = (type: string, status: boolean, reason: string, message: string): NodeCondition => ({ type, status: status ? 'True' : 'False', reason, message, lastHeartbeatTime: hb });
  let conditions = previous?.conditions ?? [];
  for (const c of [
    cond('MemoryPressure', memoryPressure, memoryPressure ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory', memoryPressure ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available'),
    cond('DiskPressure', diskPressure, diskPressure ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure', diskPressure ? 'kubelet has disk pressure' : 'kubelet has no disk pressure'),
    cond('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    cond('NetworkUnavailable', !o.networkReady, o.networkReady ? 'CNIReady' : 'NetworkPluginNotReady', o.networkReady ? 'the pod network is configured' : 'network plugin is not ready'),
    o.runtimeReady && o.networkReady
      ? cond('Ready', true, 'KubeletReady', 'kubelet is posting ready status')
      : cond('Ready', false, 'KubeletNotReady', o.runtimeMessage || 'container runtime is not ready'),
  ]) {
    conditions = setCondition(conditions, c, now);
  }
  return {
    ...previous,
    capacity,
    allocatable,
    conditions,
    addresses: [
      { type: 'InternalIP', address: o.nodeIP },
      { type: 'Hostname', address: o.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: o.port } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.machineID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: o.runtimeVersion,
      kubeletVersion: AgentVersion,
      kubeProxyVersion: AgentVersion,
      operatingSystem: 'linux',
      architecture: m.architecture,
    },
  };
}

/** Status fields that count as a change (heartbeat times do not). */
function significant(s: NodeStatus): string {
  return JSON.stringify({ ...s, conditions: s.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) , capacity: undefined, allocatable: undefined });
}

export class NodeAgent {
  private leaseTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastWritten = '';
  private lastWriteMs = 0;
  private podCidr: string | undefined;
  private readonly now: () => number;
  /** What the node last reported as allocatable (for admission). */
  allocatable: NodeStatus['allocatable'];

  constructor(private readonly opts: NodeAgentOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Creates or adopts the Node, writes its status and the first Lease; then keeps both fresh. */
  async start(): Promise<Node> {
    const node = await this.register();
    await this.renewLease();
    await this.updateStatus(true);
    this.leaseTimer = setInterval(() => void this.renewLease().catch((err) => this.opts.log('warn', 'lease renewal failed', { error: String(err) })), this.opts.leaseRenewMs ?? 10_000);
    this.statusTimer = setInterval(() => void this.updateStatus(false).catch((err) => this.opts.log('warn', 'node status update failed', { error: String(err) })), 10_000);
    return node;
  }

  stop(): void {
    clearInterval(this.leaseTimer);
    clearInterval(this.statusTimer);
  }

  private async register(): Promise<Node> {
    const { client, nodeName } = this.opts;
    try {
      return await client.nodes().get(nodeName);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
    }
    const labels = {
      'kubernetes.io/hostname': nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': machineInfo(this.opts.rootDir).architecture,
      ...this.opts.labels,
    };
    try {
      const node = await client.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels }, spec: {} });
      this.opts.log('info', 'registered node', { node: nodeName });
      return node;
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') return client.nodes().get(nodeName);
      throw err;
    }
  }

  async renewLease(): Promise<void> {
    const { client, nodeName } = this.opts;
    const leases = client.leases(LeaseNamespace);
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 40, renewTime: microTime(this.now()) };
    let lease: Lease | undefined;
    try {
      lease = await leases.get(nodeName);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
    }
    if (!lease) {
      const node = await client.nodes().get(nodeName);
      await leases.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: nodeName, namespace: LeaseNamespace, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid! }] },
        spec,
      });
      return;
    }
    await leases.update({ ...lease, spec: { ...lease.spec, ...spec } });
  }

  /** Writes the status when it changed, or when a minute passed; `force` writes anyway. */
  async updateStatus(force: boolean): Promise<void> {
    const { client, cri, nodeName } = this.opts;
    const node = await client.nodes().get(nodeName);
    const cidr = node.spec?.podCIDR;
    if (cidr && cidr !== this.podCidr) {
      this.podCidr = cidr;
      this.opts.onPodCidr?.(cidr);
    }
    let runtimeVersion = 'unknown';
    let conditions = { RuntimeReady: false, NetworkReady: false, all: {} as Record<string, { message: string }> };
    try {
      const v = await cri.version();
      runtimeVersion = `${v.runtime_name}://${v.runtime_version}`;
      conditions = await cri.conditions();
    } catch (err) {
      conditions.all['RuntimeReady'] = { message: `container runtime is down: ${(err as Error).message}` };
    }
    const status = nodeStatus(
      node.status,
      machineInfo(this.opts.rootDir),
      {
        nodeName,
        nodeIP: this.opts.nodeIP,
        maxPods: this.opts.maxPods ?? 110,
        port: this.opts.port,
        runtimeVersion,
        runtimeReady: conditions.RuntimeReady,
        networkReady: conditions.NetworkReady,
        runtimeMessage: Object.values(conditions.all).map((c) => c.message).filter(Boolean).join('; '),
      },
      this.now(),
    );
    this.allocatable = status.allocatable;
    const sig = significant(status);
    if (!force && sig === this.lastWritten && this.now() - this.lastWriteMs < (this.opts.statusUpdateMs ?? 60_000)) return;
    await client.nodes().patch(nodeName, 'merge', { status }, { subresource: 'status' });
    this.lastWritten = sig;
    this.lastWriteMs = this.now();
  }
}
