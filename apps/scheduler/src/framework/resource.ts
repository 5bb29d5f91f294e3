// Resource amounts as plain numbers for the hot path: CPU in millicores, memory and
// ephemeral storage in bytes, everything else (extended resources) in whole units. Parsed
// once per pod and per node from the exact Quantities of @keel/api, so filtering thousands
// of nodes adds numbers instead of bigints.

import { parseResourceList, podNonZeroRequests, podRequests, type Node, type Pod, type ResourceAmounts } from '@keel/api';

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Pod slots (only meaningful in a node's allocatable). */
  pods: number;
  /** Extended and other named resources. */
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: new Map() };
}

export function resourceFromAmounts(amounts: ResourceAmounts): Resource {
  const r = emptyResource();
  for (const [name, q] of amounts) {
    switch (name) {
      case 'cpu':
        r.milliCPU = q.milliValue();
        break;
      case 'memory':
        r.memory = q.value();
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage = q.value();
        break;
      case 'pods':
        r.pods = q.value();
        break;
      default:
        r.scalar.set(name, q.value());
    }
  }
  return r;
}

/** What the pod asks for, counted as Kubernetes does (init-container peaks, sidecars, overhead). */
export function podResourceRequests(pod: Pod): Resource {
  return resourceFromAmounts(podRequests(pod));
}

/** Requests with Kubernetes' non-zero defaults for cpu and memory, used only for scoring. */
export function podNonZeroResourceRequests(pod: Pod): Resource {
  return resourceFromAmounts(podNonZeroRequests(pod));
}

export function nodeAllocatable(node: Node): Resource {
  return resourceFromAmounts(parseResourceList(node.status?.allocatable ?? node.status?.capacity));
}

/** `into += r` (sign -1 subtracts). */
export function addResource(into: Resource, r: Resource, sign: 1 | -1 = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  for (const [name, v] of r.scalar) into.scalar.set(name, (into.scalar.get(name) ?? 0) + sign * v);
}

export function cloneResource(r: Resource): Resource {
  return { ...r, scalar: new Map(r.scalar) };
}
