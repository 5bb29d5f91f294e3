// `keel describe TYPE [NAME…]` (or -l): each object's summary and its Events, found as
// kubectl finds them — events in the object's namespace whose involvedObject is this uid.
import { Command } from 'commander';
import type { ResourceInfo } from '../kube/discovery';
import { ApiStatusError } from '../kube/rest';
import { describeObject, type EventObj } from '../print/describe';
import type { KubeObj } from '../print/objects';
import { action, errorLine, out, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

interface DescribeFlags {
  selector?: string;
  allNamespaces?: boolean;
  showEvents: boolean;
}

async function eventsFor(kube: Kube, obj: KubeObj): Promise<EventObj[]> {
  const events = (await kube.discovery.resources()).find((r) => r.group === '' && r.resource === 'events');
  if (!events || !obj.metadata?.uid) return [];
  const md = obj.metadata;
  const selector = [`involvedObject.uid=${md.uid}`, `involvedObject.name=${md.name}`, ...(md.namespace ? [`involvedObject.namespace=${md.namespace}`] : [])].join(',');
  try {
    const list = await kube.client.get<{ items: EventObj[] }>(kube.path(events, undefined, md.namespace ?? ''), { fieldSelector: selector });
    return list.items;
  } catch (err) {
    // A user who may read the object but not events still gets the description.
    if (err instanceof ApiStatusError && err.code === 403) return [];
    throw err;
  }
}

async function runDescribe(kube: Kube, args: string[], flags: DescribeFlags): Promise<void> {
  const groups = typeNameArgs(args);
  if (groups.length === 0) throw new UsageError('you must specify the type of resource to describe, e.g. "keel describe pod NAME"');
  const now = new Date();
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
    for (const obj of objects) blocks.push(describeObject(obj, flags.showEvents ? await eventsFor(kube, obj) : undefined, now));
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
