// `keel describe node`: kubectl's Node layout — roles, taints, the node's Lease, conditions,
// addresses, capacity and allocatable, system info, then the pods running there with their
// requests and limits as a share of allocatable, and the node's total allocation.
import { Quantity, podLimits, podRequests, type Lease, type Node, type Pod, type ResourceList } from '@keel/api';
import { LEVEL, annotationLines, labelLines, rfc1123z, taintLines } from './common';
import { age } from './duration';

const ROLE_PREFIX = 'node-role.kubernetes.io/';
const ROLE_LABEL = 'kubernetes.io/role';

export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(ROLE_PREFIX) && k.length > ROLE_PREFIX.length) roles.add(k.slice(ROLE_PREFIX.length));
    else if (k === ROLE_LABEL && v) roles.add(v);
  }
  return [...roles].sort();
}

/** What the command found out about the node besides the node itself. */
export interface NodeExtras {
  /** Its pods that are neither Succeeded nor Failed; undefined when the user may not list pods. */
  pods: Pod[] | undefined;
  /** Its heartbeat Lease in kube-node-lease, or why it could not be read. */
  lease: Lease | { error: string };
}

const quantityText = (v: string): string => Quantity.tryParse(v)?.toString() ?? v;
const zero = Quantity.zero();

/** `part` as a whole percentage of `whole` (cpu in millicores, the rest in units), truncated. */
function percent(resource: string, part: Quantity, whole: Quantity | undefined): number {
  if (!whole) return 0;
  const [p, w] = resource === 'cpu' ? [part.milliValue(), whole.milliValue()] : [part.value(), whole.value()];
  return w === 0 ? 0 : Math.trunc((p / w) * 100);
}

function sum(pods: Pod[], of: (p: Pod) => Map<string, Quantity>): Map<string, Quantity> {
  const total = new Map<string, Quantity>();
  for (const p of pods) for (const [k, q] of of(p)) total.set(k, total.get(k)?.add(q) ?? q);
  return total;
}

function resourceListLines(title: string, list: ResourceList | undefined): string[] {
  const names = Object.keys(list ?? {}).sort();
  if (!names.length) return [];
  return [`${title}:`, ...names.map((n) => `${LEVEL(1)}${n}:\t${quantityText(list![n]!)}`)];
}

function allocationLines(node: Node, pods: Pod[], now: Date): string[] {
  const capacity = node.status?.capacity ?? {};
  const allocText = Object.keys(node.status?.allocatable ?? {}).length ? node.status!.allocatable! : capacity;
  const alloc = new Map(Object.entries(allocText).map(([k, v]) => [k, Quantity.tryParse(v) ?? zero]));
  const share = (resource: string, q: Quantity | undefined): string => `${(q ?? zero).toString()} (${percent(resource, q ?? zero, alloc.get(resource))}%)`;
  const out = [
    `Non-terminated Pods:\t(${pods.length} in total)`,
    `${LEVEL(1)}Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge`,
    `${LEVEL(1)}---------\t----\t\t------------\t----------\t---------------\t-------------\t---`,
  ];
  for (const p of pods) {
    const req = podRequests(p);
    const lim = podLimits(p);
    out.push(
      `${LEVEL(1)}${p.metadata?.namespace ?? ''}\t${p.metadata?.name ?? ''}\t\t${share('cpu', req.get('cpu'))}\t${share('cpu', lim.get('cpu'))}\t${share('memory', req.get('memory'))}\t${share('memory', lim.get('memory'))}\t${age(p.metadata?.creationTimestamp, now)}`,
    );
  }
  const reqs = sum(pods, podRequests);
  const limits = sum(pods, podLimits);
  out.push('Allocated resources:', '  (Total limits may be over 100 percent, i.e., overcommitted.)', `${LEVEL(1)}Resource\tRequests\tLimits`, `${LEVEL(1)}--------\t--------\t------`);
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) out.push(`${LEVEL(1)}${r}\t${share(r, reqs.get(r))}\t${share(r, limits.get(r))}`);
  const names = [...alloc.keys()].sort();
  for (const r of names.filter((n) => n.startsWith('hugepages-'))) out.push(`${LEVEL(1)}${r}\t${share(r, reqs.get(r))}\t${share(r, limits.get(r))}`);
  for (const r of names.filter((n) => !n.startsWith('hugepages-') && !['cpu', 'memory', 'ephemeral-storage', 'pods'].includes(n))) {
    out.push(`${LEVEL(1)}${r}\t${(reqs.get(r) ?? zero).toString()}\t${(limits.get(r) ?? zero).toString()}`);
  }
  return out;
}

export function describeNode(node: Node, extras: NodeExtras, now: Date): string[] {
  const md = node.metadata ?? {};
  const spec = node.spec ?? {};
  const st = node.status ?? {};
  const roles = nodeRoles(node);
  const out = [`Name:\t${md.name ?? ''}`, `Roles:\t${roles.length ? roles.join(',') : '<none>'}`];
  out.push(...labelLines('Labels', md.labels), ...annotationLines('Annotations', md.annotations));
  out.push(`CreationTimestamp:\t${rfc1123z(md.creationTimestamp)}`, ...taintLines('Taints', spec.taints), `Unschedulable:\t${spec.unschedulable === true}`);
  if ('error' in extras.lease) {
    out.push(`Lease:\tFailed to get lease: ${extras.lease.error}`);
  } else {
    const l = extras.lease.spec ?? {};
    out.push('Lease:', `${LEVEL(1)}HolderIdentity:\t${l.holderIdentity ?? '<unset>'}`);
    out.push(`${LEVEL(1)}AcquireTime:\t${l.acquireTime ? rfc1123z(l.acquireTime) : '<unset>'}`, `${LEVEL(1)}RenewTime:\t${l.renewTime ? rfc1123z(l.renewTime) : '<unset>'}`);
  }
  if (st.conditions?.length) {
    out.push('Conditions:', '  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage', `${LEVEL(1)}----\t------\t-----------------\t------------------\t------\t-------`);
    for (const c of st.conditions) {
      out.push(`${LEVEL(1)}${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}`);
    }
  }
  out.push('Addresses:', ...(st.addresses ?? []).map((a) => `${LEVEL(1)}${a.type}:\t${a.address}`));
  out.push(...resourceListLines('Capacity', st.capacity), ...resourceListLines('Allocatable', st.allocatable));
  const info = st.nodeInfo;
  out.push(
    'System Info:',
    `  Machine ID:\t${info?.machineID ?? ''}`,
    `  System UUID:\t${info?.systemUUID ?? ''}`,
    `  Boot ID:\t${info?.bootID ?? ''}`,
    `  Kernel Version:\t${info?.kernelVersion ?? ''}`,
    `  OS Image:\t${info?.osImage ?? ''}`,
    `  Operating System:\t${info?.operatingSystem ?? ''}`,
    `  Architecture:\t${info?.architecture ?? ''}`,
    `  Container Runtime Version:\t${info?.containerRuntimeVersion ?? ''}`,
    `  Kubelet Version:\t${info?.kubeletVersion ?? ''}`,
    `  Kube-Proxy Version:\t${info?.kubeProxyVersion ?? ''}`,
  );
  if (spec.podCIDR) out.push(`PodCIDR:\t${spec.podCIDR}`);
  if (spec.podCIDRs?.length) out.push(`PodCIDRs:\t${spec.podCIDRs.join(',')}`);
  if (spec.providerID) out.push(`ProviderID:\t${spec.providerID}`);
  if (extras.pods) out.push(...allocationLines(node, extras.pods, now));
  else out.push('Pods:\tnot authorized');
  return out;
}
