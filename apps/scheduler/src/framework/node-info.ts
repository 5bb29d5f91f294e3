// NodeInfo: one node and what is on it — its pods, the resources they request (plain and
// with scoring defaults), the host ports they hold, and which of them carry inter-pod
// affinity. The cache keeps one per node and updates it incrementally; preemption works on
// clones, so a what-if never touches the cache.

import type { Node } from '@keel/api';
import { hasAffinity, type HostPort, type PodInfo } from './pod-info';
import { addResource, cloneResource, emptyResource, nodeAllocatable, type Resource } from './resource';

export class NodeInfo {
  node: Node;
  name: string;
  allocatable: Resource;
  pods: PodInfo[] = [];
  requested: Resource = emptyResource();
  nonZeroRequested: Resource = emptyResource();
  /** `protocol/port` → host IPs in use (0.0.0.0 for all). */
  usedPorts = new Map<string, Set<string>>();
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** Image name → size in bytes, from node.status.images. */
  imageSizes: Map<string, number>;
  /** Bumped on every change, so snapshots know what moved. */
  generation = 0;

  constructor(node: Node) {
    this.node = node;
    this.name = node.metadata.name ?? '';
    this.allocatable = nodeAllocatable(node);
    this.imageSizes = imageSizes(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node);
    this.imageSizes = imageSizes(node);
    this.generation++;
  }

  addPod(p: PodInfo): void {
    this.pods.push(p);
    addResource(this.requested, p.requests);
    addResource(this.nonZeroRequested, p.nonZeroRequests);
    for (const hp of p.hostPorts) {
      const k = portKey(hp);
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, (ips = new Set()));
      ips.add(hp.ip);
    }
    if (hasAffinity(p)) this.podsWithAffinity.push(p);
    if (p.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity.push(p);
    this.generation++;
  }

  /** Removes the pod with this key; false if it was not here. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const [p] = this.pods.splice(i, 1) as [PodInfo];
    addResource(this.requested, p.requests, -1);
    addResource(this.nonZeroRequested, p.nonZeroRequests, -1);
    for (const hp of p.hostPorts) {
      const k = portKey(hp);
      // Another pod may hold the same ip/port only if it was a conflict; rebuild to be exact.
      this.usedPorts.get(k)?.delete(hp.ip);
      if (this.usedPorts.get(k)?.size === 0) this.usedPorts.delete(k);
    }
    this.podsWithAffinity = this.podsWithAffinity.filter((x) => x.key !== key);
    this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((x) => x.key !== key);
    this.generation++;
    return true;
  }

  clone(): NodeInfo {
    const c = Object.create(NodeInfo.prototype) as NodeInfo;
    c.node = this.node;
    c.name = this.name;
    c.allocatable = this.allocatable;
    c.imageSizes = this.imageSizes;
    c.pods = [...this.pods];
    c.requested = cloneResource(this.requested);
    c.nonZeroRequested = cloneResource(this.nonZeroRequested);
    c.usedPorts = new Map([...this.usedPorts].map(([k, v]) => [k, new Set(v)]));
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.generation = this.generation;
    return c;
  }
}

export function portKey(hp: HostPort): string {
  return `${hp.protocol}/${hp.port}`;
}

function imageSizes(node: Node): Map<string, number> {
  const out = new Map<string, number>();
  for (const image of node.status?.images ?? []) {
    for (const name of image.names ?? []) out.set(normalizeImageName(name), image.sizeBytes ?? 0);
  }
  return out;
}

/** `busybox` and `busybox:latest` are the same image; a digest reference stays as written. */
export function normalizeImageName(name: string): string {
  if (name.includes('@')) return name;
  const lastSlash = name.lastIndexOf('/');
  return name.slice(lastSlash + 1).includes(':') ? name : `${name}:latest`;
}
