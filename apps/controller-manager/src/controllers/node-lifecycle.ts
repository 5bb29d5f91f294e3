// The node lifecycle controller: a node's heartbeat is its Lease in `kube-node-lease`. When
// the Lease has not been renewed for the grace period (--node-monitor-grace-period, 40 s)
// the node's Ready condition (and its other conditions) become Unknown with reason
// NodeStatusUnknown. A node whose Ready is Unknown gets the `node.kubernetes.io/unreachable`
// taints, one whose Ready is False the `not-ready` ones (NoSchedule and NoExecute), and the
// taints go once it is Ready again. Pods on a node with a NoExecute taint they do not
// tolerate are deleted (evicted) at once, or after their tolerationSeconds. Node IPAM
// (node-ipam.ts) runs here too, as it is per node and cheap, and so does the part of the pod
// garbage collector that deletes pods bound to a node that no longer exists.
//
// Renewals are timed by our own clock when we see them change, not by the renewTime the
// agent wrote, so a skewed node clock cannot make a dead node look alive (Kubernetes' rule).
import {
  deepCopy,
  findCondition,
  formatTime,
  toleratesTaint,
  type Lease,
  type Node,
  type NodeCondition,
  type Pod,
  type Taint,
} from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import type { Informer } from '../runtime/informer';
import { RangeAllocator } from './node-ipam';

export const NodeLeaseNamespace = 'kube-node-lease';
export const Taints = {
  unreachable: 'node.kubernetes.io/unreachable',
  notReady: 'node.kubernetes.io/not-ready',
} as const;

const DEFAULT_GRACE_MS = 40_000;

/**
 * The taints a node should carry for its Ready condition. A node that has not reported yet
 * gets none here: it becomes Unknown (and unreachable) once its grace period has passed.
 */
export function readinessTaints(ready: NodeCondition | undefined): { key: string; effect: 'NoSchedule' | 'NoExecute' }[] {
  const key = ready?.status === 'False' ? Taints.notReady : ready?.status === 'Unknown' ? Taints.unreachable : undefined;
  return key ? [{ key, effect: 'NoSchedule' }, { key, effect: 'NoExecute' }] : [];
}

/**
 * When a pod must leave a node with these NoExecute taints: now (an untolerated taint), at
 * the earliest end of its toleration seconds, or never (undefined).
 */
export function evictionTime(pod: Pod, taints: readonly Taint[], now: number): number | undefined {
  let at: number | undefined;
  for (const taint of taints.filter((t) => t.effect === 'NoExecute')) {
    const tolerations = (pod.spec?.tolerations ?? []).filter((t) => toleratesTaint(t, taint));
    if (tolerations.length === 0) return now;
    const seconds = tolerations.map((t) => t.tolerationSeconds).filter((s): s is number => s !== undefined);
    if (seconds.length === 0) continue; // tolerated forever
    const added = Date.parse(taint.timeAdded ?? '') || now;
    const when = added + Math.max(0, Math.min(...seconds)) * 1000;
    at = at === undefined ? when : Math.min(at, when);
  }
  return at;
}

export class NodeLifecycleController extends Controller {
  readonly name = 'nodelifecycle';
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<Pod>;
  private readonly graceMs: number;
  private readonly allocator: RangeAllocator | undefined;
  /** Per node: the renewTime we last saw and when we saw it change (our clock). */
  private readonly observed = new Map<string, { renewTime: string; at: number }>();

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.graceMs = ctx.config.nodeMonitorGracePeriodMs ?? DEFAULT_GRACE_MS;
    this.allocator = ctx.config.clusterCidr ? new RangeAllocator(ctx.config.clusterCidr, ctx.config.nodeCidrMaskSize ?? 24) : undefined;
    this.nodes = ctx.informers.for<Node>(Resources.nodes);
    this.leases = ctx.informers.for<Lease>(Resources.leases);
    this.pods = ctx.informers.for<Pod>(Resources.pods);
    this.nodes.addHandler({
      add: (n) => this.enqueue(n.metadata.name!),
      update: (old, n) => {
        for (const c of [old.spec?.podCIDR, n.spec?.podCIDR]) if (c && n.spec?.podCIDR) this.allocator?.settle(c);
        this.enqueue(n.metadata.name!);
      },
      delete: (n) => {
        this.observed.delete(n.metadata.name!);
        this.enqueue(n.metadata.name!);
      },
    });
    const onLease = (l: Lease) => {
      if (l.metadata.namespace === NodeLeaseNamespace) this.enqueue(l.metadata.name!);
    };
    this.leases.addHandler({ add: onLease, update: (_, l) => onLease(l) });
    // A pod landing on a tainted node must be judged too.
    this.pods.addHandler({
      add: (p) => p.spec?.nodeName && this.enqueue(p.spec.nodeName),
      update: (old, p) => p.spec?.nodeName && !old.spec?.nodeName && this.enqueue(p.spec.nodeName),
    });
  }

  async reconcile(name: string): Promise<void> {
    const cached = this.nodes.get(name);
    if (!cached) return this.deleteOrphanedPods(name);
    const now = this.ctx.now();
    let node = deepCopy(cached);
    node = await this.allocateCidr(node);
    node = await this.monitorHealth(node, now);
    node = await this.syncTaints(node, now);
    await this.evictPods(node, now);
  }

  /** The node is gone: pods still bound to it will never run or stop (podgc's orphaned pods). */
  private async deleteOrphanedPods(name: string): Promise<void> {
    const orphans = this.pods.list().filter((p) => p.spec?.nodeName === name);
    if (orphans.length === 0) return;
    // The cache may simply not have seen a re-created node yet: ask the apiserver.
    try {
      await this.ctx.client.nodes().get(name);
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    for (const pod of orphans) {
      this.ctx.log.info('deleting pod bound to a node that no longer exists', { node: name, pod: `${pod.metadata.namespace}/${pod.metadata.name}` });
      await this.ctx.client.pods(pod.metadata.namespace).delete(pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  private async allocateCidr(node: Node): Promise<Node> {
    if (!this.allocator || node.spec?.podCIDR) return node;
    const inUse = this.nodes.list().flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []));
    const cidr = this.allocator.allocate(inUse);
    if (!cidr) {
      this.ctx.log.warn('cluster CIDR is full: node gets no pod CIDR', { node: node.metadata.name });
      return node;
    }
    try {
      return await this.ctx.client.nodes().update({ ...node, spec: { ...node.spec, podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (err) {
      this.allocator.settle(cidr);
      throw err;
    }
  }

  /** Ready (and the other conditions) become Unknown once the Lease is older than the grace period. */
  private async monitorHealth(node: Node, now: number): Promise<Node> {
    const name = node.metadata.name!;
    const lease = this.leases.get(`${NodeLeaseNamespace}/${name}`);
    const ready = findCondition(node.status?.conditions, 'Ready');
    // The newest heartbeat either way: a Lease renewal, or a status write by the agent.
    const beat = [lease?.spec?.renewTime ?? '', ready?.lastHeartbeatTime ?? ''].sort().at(-1)!;
    const seen = this.observed.get(name);
    if (!seen || seen.renewTime !== beat) this.observed.set(name, { renewTime: beat, at: now });
    const since = this.observed.get(name)!.at;
    const deadline = since + this.graceMs;
    if (now < deadline) {
      this.queue.addAfter(name, deadline - now + 100);
      return node;
    }
    const conditions = node.status?.conditions ?? [];
    const types = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
    const nowTime = formatTime(now);
    let changed = false;
    const next: NodeCondition[] = conditions.map((c) => ({ ...c }));
    for (const type of types) {
      const c = next.find((x) => x.type === type);
      if (c?.status === 'Unknown') continue;
      changed = true;
      const unknown: NodeCondition = {
        type,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: c ? 'Kubelet stopped posting node status.' : 'Kubelet never posted node status.',
        lastHeartbeatTime: c?.lastHeartbeatTime ?? nowTime,
        lastTransitionTime: nowTime,
      };
      if (c) Object.assign(c, unknown);
      else next.push(unknown);
    }
    if (!changed) return node;
    this.ctx.log.info('node stopped renewing its lease: conditions Unknown', { node: name, graceMs: this.graceMs });
    this.ctx.recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    return this.ctx.client.nodes().updateStatus({ ...node, status: { ...node.status, conditions: next } });
  }

  private async syncTaints(node: Node, now: number): Promise<Node> {
    const want = readinessTaints(findCondition(node.status?.conditions, 'Ready'));
    const taints = node.spec?.taints ?? [];
    const ours = (t: Taint) => t.key === Taints.unreachable || t.key === Taints.notReady;
    const keep = taints.filter((t) => !ours(t) || want.some((w) => w.key === t.key && w.effect === t.effect));
    const add = want.filter((w) => !taints.some((t) => t.key === w.key && t.effect === w.effect));
    if (add.length === 0 && keep.length === taints.length) return node;
    const next: Taint[] = [...keep, ...add.map((w) => ({ ...w, timeAdded: formatTime(now) }))];
    const spec = { ...node.spec };
    if (next.length > 0) spec.taints = next;
    else delete spec.taints;
    return this.ctx.client.nodes().update({ ...node, spec });
  }

  private async evictPods(node: Node, now: number): Promise<void> {
    const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (taints.length === 0) return;
    let next: number | undefined;
    for (const pod of this.pods.list().filter((p) => p.spec?.nodeName === node.metadata.name && !p.metadata.deletionTimestamp)) {
      const at = evictionTime(pod, taints, now);
      if (at === undefined) continue;
      if (at > now) {
        next = next === undefined ? at : Math.min(next, at);
        continue;
      }
      this.ctx.log.info('evicting pod from tainted node', { node: node.metadata.name, pod: `${pod.metadata.namespace}/${pod.metadata.name}` });
      this.ctx.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
      try {
        await this.ctx.client.pods(pod.metadata.namespace).delete(pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (next !== undefined) this.queue.addAfter(node.metadata.name!, next - now + 10);
  }
}
