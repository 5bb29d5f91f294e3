// `keel describe TYPE [NAME…]` (or -l): each object's summary and its Events, found as
// kubectl finds them — events in the object's namespace whose involvedObject is this uid.
// The kinds with a layout of their own get here what that layout shows besides the object:
// a Deployment's ReplicaSets, a ReplicaSet's pods, a Service's EndpointSlices, a Node's pods
// and Lease. Those reads are best effort, as kubectl's are: a failure leaves a part out.
import { Command } from 'commander';
import { formatLabelSelector, type Deployment, type EndpointSlice, type Lease, type Pod, type ReplicaSet } from '@keel/api';
import { resourcePath, type ResourceInfo } from '../kube/discovery';
import { ApiStatusError } from '../kube/rest';
import { describe, describedKind, type EventObj, type Related } from '../print/describe';
import type { KubeObj } from '../print/objects';
import { action, errorLine, out, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

interface DescribeFlags {
  selector?: string;
  allNamespaces?: boolean;
  showEvents: boolean;
}

/** The reads describe makes beyond the objects themselves: a seam for tests. */
export interface Reader {
  resources(): Promise<ResourceInfo[]>;
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
}

function readerOf(kube: Kube): Reader {
  return { resources: () => kube.discovery.resources(), get: (path, query) => kube.client.get(path, query) };
}

async function resource(api: Reader, group: string, name: string): Promise<ResourceInfo | undefined> {
  return (await api.resources()).find((r) => r.group === group && r.resource === name);
}

async function listEvents(api: Reader, events: ResourceInfo, name: string | undefined, namespace: string | undefined, uid: string): Promise<EventObj[]> {
  const selector = [`involvedObject.uid=${uid}`, `involvedObject.name=${name}`, ...(namespace ? [`involvedObject.namespace=${namespace}`] : [])].join(',');
  const list = await api.get<{ items: EventObj[] }>(resourcePath(events, namespace ?? ''), { fieldSelector: selector });
  return list.items;
}

/** Events whose involvedObject is this object, as kubectl finds them. */
export async function eventsFor(api: Reader, obj: KubeObj): Promise<EventObj[]> {
  const events = await resource(api, '', 'events');
  if (!events || !obj.metadata?.uid) return [];
  const md = obj.metadata;
  try {
    const found = await listEvents(api, events, md.name, md.namespace, md.uid!);
    // A node's events come from controllers (by uid) and from its kubelet (by name), as kubectl merges them.
    if (describedKind(obj.apiVersion, obj.kind) === '/Node' && md.name && md.name !== md.uid) found.push(...(await listEvents(api, events, md.name, undefined, md.name)));
    return found;
  } catch (err) {
    // A user who may read the object but not events still gets the description.
    if (err instanceof ApiStatusError && err.code === 403) return [];
    throw err;
  }
}

/** A list in one namespace (all with ''), or undefined when the server has no such resource or refuses. */
async function listOf<T>(api: Reader, group: string, name: string, namespace: string, query: Record<string, string>): Promise<T[] | undefined> {
  const info = await resource(api, group, name);
  if (!info) return undefined;
  try {
    return (await api.get<{ items: T[] }>(resourcePath(info, namespace), query)).items;
  } catch (err) {
    if (err instanceof ApiStatusError) return undefined;
    throw err;
  }
}

/** The extra reads the object's layout needs. */
export async function relatedFor(api: Reader, obj: KubeObj): Promise<Related> {
  const md = obj.metadata ?? {};
  const ns = md.namespace ?? '';
  switch (describedKind(obj.apiVersion, obj.kind)) {
    case 'apps/Deployment': {
      const selector = formatLabelSelector((obj as Deployment).spec?.selector ?? {});
      const replicaSets = await listOf<ReplicaSet>(api, 'apps', 'replicasets', ns, { labelSelector: selector });
      return replicaSets ? { replicaSets } : {};
    }
    case 'apps/ReplicaSet': {
      const selector = formatLabelSelector((obj as ReplicaSet).spec?.selector ?? {});
      try {
        return { pods: (await api.get<{ items: Pod[] }>(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, { labelSelector: selector })).items };
      } catch (err) {
        if (!(err instanceof ApiStatusError)) throw err;
        return { pods: err.message };
      }
    }
    case '/Service':
      return { endpointSlices: (await listOf<EndpointSlice>(api, 'discovery.k8s.io', 'endpointslices', ns, { labelSelector: `kubernetes.io/service-name=${md.name}` })) ?? [] };
    case '/Node': {
      const related: Related = {};
      try {
        const fieldSelector = `spec.nodeName=${md.name},status.phase!=Succeeded,status.phase!=Failed`;
        related.nodePods = (await api.get<{ items: Pod[] }>('/api/v1/pods', { fieldSelector })).items;
      } catch (err) {
        // kubectl says "not authorized" where a user may see the node but not every pod.
        if (!(err instanceof ApiStatusError && err.code === 403)) throw err;
      }
      try {
        related.lease = await api.get<Lease>(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(md.name ?? '')}`);
      } catch (err) {
        if (!(err instanceof ApiStatusError)) throw err;
        related.lease = { error: err.message };
      }
      return related;
    }
    default:
      return {};
  }
}

async function runDescribe(kube: Kube, args: string[], flags: DescribeFlags): Promise<void> {
  const groups = typeNameArgs(args);
  if (groups.length === 0) throw new UsageError('you must specify the type of resource to describe, e.g. "keel describe pod NAME"');
  const now = new Date();
  const api = readerOf(kube);
  const blocks: string[] = [];
  let failed = false;
  for (const g of groups) {
    const info: ResourceInfo = await kube.discovery.resolve(g.type);
    const ns = info.namespaced && !flags.allNamespaces ? kube.namespace : undefined;
    let objects: KubeObj[] = [];
    if (g.names.length) {
      for (const name of g.names) {
        try {
          objects.push(await kube.client.get<KubeObj>(kube.path(info, name, ns)));
        } catch (err) {
          if (!(err instanceof ApiStatusError)) throw err;
          process.stderr.write(errorLine(err) + '\n');
          failed = true;
        }
      }
    } else {
      const list = await kube.client.get<{ items: KubeObj[] }>(kube.path(info, undefined, ns ?? ''), { labelSelector: flags.selector });
      objects = list.items.map((o) => ({ apiVersion: info.groupVersion, kind: info.kind, ...o }));
      if (objects.length === 0) process.stderr.write(`No resources found${ns ? ` in ${ns} namespace` : ''}.\n`);
    }
    for (const obj of objects) {
      const typed = { apiVersion: info.groupVersion, kind: info.kind, ...obj };
      const events = flags.showEvents ? await eventsFor(api, typed) : undefined;
      blocks.push(describe(typed, await relatedFor(api, typed), events, now));
    }
  }
  if (blocks.length) out(blocks.join('\n\n\n'));
  if (failed) process.exitCode = 1;
}

export function registerDescribe(program: Command): void {
  withKubeFlags(
    program
      .command('describe')
      .description('show objects in detail, with their events')
      .argument('[args...]', 'TYPE [NAME…] or TYPE/NAME…')
      .option('-l, --selector <selector>', 'describe the objects with these labels')
      .option('-A, --all-namespaces', 'across every namespace')
      .option('--no-show-events', 'leave the events out'),
  ).action(action((kube, args: string[], flags: DescribeFlags) => runDescribe(kube, args, flags)));
}
