// `keel delete`: by TYPE NAME…, TYPE/NAME…, -f manifests, -l selector or --all; background
// propagation as kubectl sends it; then waits until each object is gone (its uid no longer
// answers) unless --wait=false.
import { Command, Option } from 'commander';
import { kindName, type ResourceInfo } from '../kube/discovery';
import { readManifests } from '../kube/manifests';
import { ApiStatusError } from '../kube/rest';
import type { KubeObj } from '../print/objects';
import { action, errorLine, out, parseDuration, sleep, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';
import { targetNamespace } from './apply';

interface DeleteFlags {
  filename?: string[];
  recursive?: boolean;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  wait: string;
  timeout?: string;
  ignoreNotFound?: boolean;
  gracePeriod?: string;
  now?: boolean;
  output?: string;
}

interface Target {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function targets(kube: Kube, args: string[], flags: DeleteFlags): Promise<Target[]> {
  if (flags.filename?.length) {
    if (args.length) throw new UsageError('cannot name objects both with -f and as arguments');
    const out: Target[] = [];
    for (const m of readManifests(flags.filename, flags.recursive === true)) {
      const info = await kube.discovery.forKind(m.obj.apiVersion!, m.obj.kind!);
      out.push({ info, namespace: targetNamespace(kube, info, m), name: m.obj.metadata!.name! });
    }
    return out;
  }
  const groups = typeNameArgs(args);
  if (groups.length === 0) throw new UsageError('you must specify the type of resource to delete, e.g. "keel delete pod NAME" or -f FILE');
  const out: Target[] = [];
  for (const g of groups) {
    const info = await kube.discovery.resolve(g.type);
    const ns = info.namespaced ? (flags.allNamespaces ? undefined : kube.namespace) : undefined;
    if (g.names.length) {
      if (flags.selector || flags.all) throw new UsageError('name cannot be provided when a selector or --all is specified');
      for (const name of g.names) out.push({ info, namespace: ns, name });
    } else {
      if (!flags.selector && !flags.all) throw new UsageError(`resource(s) were provided, but no name was specified: name them, or use -l SELECTOR or --all`);
      const list = await kube.client.get<{ items: KubeObj[] }>(kube.path(info, undefined, ns ?? ''), { labelSelector: flags.selector });
      for (const o of list.items) out.push({ info, namespace: o.metadata?.namespace, name: o.metadata!.name! });
    }
  }
  return out;
}

async function waitGone(kube: Kube, t: Target, uid: string | undefined, deadline: number): Promise<boolean> {
  const path = kube.path(t.info, t.name, t.namespace);
  for (let delay = 100; Date.now() < deadline; delay = Math.min(delay * 2, 1000)) {
    try {
      const o = await kube.client.get<KubeObj>(path);
      if (uid !== undefined && o.metadata?.uid !== uid) return true;
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return true;
      throw err;
    }
    await sleep(delay);
  }
  return false;
}

async function runDelete(kube: Kube, args: string[], flags: DeleteFlags): Promise<void> {
  const wait = flags.wait !== 'false';
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout, '--timeout') : 0;
  const list = await targets(kube, args, flags);
  if (list.length === 0) {
    process.stderr.write(`No resources found${flags.allNamespaces ? '' : ` in ${kube.namespace} namespace`}.\n`);
    return;
  }
  let failed = false;
  const deleted: { t: Target; uid?: string }[] = [];
  const grace = flags.now ? 1 : flags.gracePeriod !== undefined ? Number(flags.gracePeriod) : undefined;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw new UsageError(`--grace-period must be a whole number of seconds, got "${flags.gracePeriod}"`);
  for (const t of list) {
    try {
      const res = await kube.client.json<KubeObj>({
        method: 'DELETE',
        path: kube.path(t.info, t.name, t.namespace),
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}) },
      });
      out(flags.output === 'name' ? `${kindName(t.info)}/${t.name}` : `${t.info.kind.toLowerCase()}${t.info.group ? `.${t.info.group}` : ''} "${t.name}" deleted`);
      deleted.push({ t, ...(res.metadata?.uid && res.kind !== 'Status' ? { uid: res.metadata.uid } : {}) });
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404 && flags.ignoreNotFound) continue;
      if (!(err instanceof ApiStatusError)) throw err;
      process.stderr.write(errorLine(err) + '\n');
      failed = true;
    }
  }
  if (wait) {
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.MAX_SAFE_INTEGER;
    for (const { t, uid } of deleted) {
      if (!(await waitGone(kube, t, uid, deadline))) {
        process.stderr.write(`error: timed out waiting for ${kindName(t.info)}/${t.name} to be deleted\n`);
        failed = true;
      }
    }
  }
  if (failed) process.exitCode = 1;
}

export function registerDelete(program: Command): void {
  withKubeFlags(
    program
      .command('delete')
      .description('delete objects by name, by manifest (-f), by label (-l) or all of a type (--all)')
      .argument('[args...]', 'TYPE NAME… or TYPE/NAME…')
      .option('-f, --filename <path>', 'manifests naming what to delete (repeatable)', collect)
      .option('-R, --recursive', 'descend into sub-folders of -f folders')
      .option('-l, --selector <selector>', 'delete the objects with these labels')
      .option('--all', 'delete every object of the type in the namespace')
      .option('-A, --all-namespaces', 'with -l or --all: across every namespace')
      .addOption(new Option('--wait [bool]', 'wait until the objects are gone (--wait=false returns at once)').default('true').preset('true').choices(['true', 'false']))
      .option('--timeout <duration>', 'how long to wait, e.g. 60s (default: no limit)')
      .option('--ignore-not-found', 'a missing object is not an error')
      .option('--grace-period <seconds>', 'seconds a pod gets to stop')
      .option('--now', 'stop pods at once (grace period 1)')
      .option('-o, --output <format>', 'name: print only kind/name'),
  ).action(action((kube, args: string[], flags: DeleteFlags) => runDelete(kube, args, flags)));
}
