// Resource arithmetic over ResourceLists (`{cpu: "500m", memory: "1Gi"}`): parsing into
// exact Quantities, sums and maxima, and a pod's effective requests and limits as the
// scheduler and the kubelet count them — the regular containers and sidecars together, or
// the largest init-container step if that is more, plus the pod overhead.

import { setOwn } from './objects';
import { Quantity } from './quantity';
import type { Container, Pod, ResourceList } from './types/core';

/** Resource name → exact amount. */
export type ResourceAmounts = Map<string, Quantity>;

/** Parses a ResourceList; throws QuantityError on a bad quantity (validation rejects those first). */
export function parseResourceList(list: ResourceList | undefined): ResourceAmounts {
  const out: ResourceAmounts = new Map();
  for (const [name, text] of Object.entries(list ?? {})) out.set(name, Quantity.parse(String(text)));
  return out;
}

/** A ResourceList of canonical quantity strings, names sorted. */
export function toResourceList(amounts: ResourceAmounts): ResourceList {
  const out: ResourceList = {};
  for (const name of [...amounts.keys()].sort()) setOwn(out, name, amounts.get(name)!.toString());
  return out;
}

export function addResources(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  const out = new Map(a);
  for (const [name, q] of b) out.set(name, out.get(name)?.add(q) ?? q);
  return out;
}

/** Per resource, the larger of the two amounts. */
export function maxResources(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  const out = new Map(a);
  for (const [name, q] of b) {
    const current = out.get(name);
    if (!current || q.cmp(current) > 0) out.set(name, q);
  }
  return out;
}

/** The resources in `requests` that `available` does not cover. */
export function insufficientResources(requests: ResourceAmounts, available: ResourceAmounts): string[] {
  const short: string[] = [];
  for (const [name, q] of requests) {
    if (q.sign() <= 0) continue;
    const have = available.get(name);
    if (!have || q.cmp(have) > 0) short.push(name);
  }
  return short.sort();
}

function effective(pod: Pod, pick: (c: Container) => ResourceList | undefined): ResourceAmounts {
  let total: ResourceAmounts = new Map();
  for (const container of pod.spec?.containers ?? []) total = addResources(total, parseResourceList(pick(container)));
  // Init containers run one at a time before the regular ones; sidecars (restartPolicy
  // Always) keep running, so each later step and the regular containers carry them too.
  let sidecars: ResourceAmounts = new Map();
  let initPeak: ResourceAmounts = new Map();
  for (const container of pod.spec?.initContainers ?? []) {
    const own = parseResourceList(pick(container));
    if (container.restartPolicy === 'Always') {
      total = addResources(total, own);
      sidecars = addResources(sidecars, own);
      initPeak = maxResources(initPeak, sidecars);
    } else {
      initPeak = maxResources(initPeak, addResources(own, sidecars));
    }
  }
  return addResources(maxResources(total, initPeak), parseResourceList(pod.spec?.overhead));
}

/** What a pod asks of its node: what the scheduler fits against allocatable. */
export function podRequests(pod: Pod): ResourceAmounts {
  return effective(pod, (c) => c.resources?.requests);
}

/** The pod's limits counted the same way (a resource with no limit on some container is absent there). */
export function podLimits(pod: Pod): ResourceAmounts {
  return effective(pod, (c) => c.resources?.limits);
}

/** The scheduler scores a container without requests as if it asked for this much CPU (millicores)... */
export const DefaultMilliCPURequest = 100;
/** ...and this much memory (bytes), so empty pods still spread. */
export const DefaultMemoryRequest = 200 * 1024 * 1024;

/** Requests for scoring: each container's missing cpu or memory request counted at the defaults. */
export function podNonZeroRequests(pod: Pod): ResourceAmounts {
  return effective(pod, (c) => {
    const requests = { ...(c.resources?.requests ?? {}) };
    const cpu = requests['cpu'] === undefined ? undefined : Quantity.tryParse(requests['cpu']);
    const memory = requests['memory'] === undefined ? undefined : Quantity.tryParse(requests['memory']);
    if (!cpu || cpu.isZero()) requests['cpu'] = `${DefaultMilliCPURequest}m`;
    if (!memory || memory.isZero()) requests['memory'] = '200Mi';
    return requests;
  });
}
