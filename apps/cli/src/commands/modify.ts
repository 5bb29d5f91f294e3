// `keel label`, `keel annotate` and `keel scale`: small changes as JSON merge patches (what
// kubectl sends for these), printed as `pod/x labeled` or `deployment.apps/web scaled`.
import { Command } from 'commander';
import { kindName, type ResourceInfo } from '../kube/discovery';
import type { KubeObj } from '../print/objects';
import { action, out, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

interface MetaFlags {
  overwrite?: boolean;
  selector?: string;
  all?: boolean;
  list?: boolean;
}

export interface MetaChanges {
  set: Record<string, string>;
  remove: string[];
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A qualified key `[prefix/]name`, as labels and annotations need. */
export function checkKey(key: string, what: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (!NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !PREFIX.test(prefix)))) {
    throw new UsageError(`invalid ${what} key "${key}": a key is an optional DNS-subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" or "." that starts and ends with a letter or digit`);
  }
}

/** Splits `k=v` and `k-` arguments from names; checks keys (and label values). */
export function parseMetaChanges(args: string[], what: 'label' | 'annotation'): { names: string[]; changes: MetaChanges } {
  const names: string[] = [];
  const changes: MetaChanges = { set: {}, remove: [] };
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) {
      const key = a.slice(0, eq);
      const value = a.slice(eq + 1);
      checkKey(key, what);
      if (what === 'label' && (value.length > 63 || !VALUE.test(value))) {
        throw new UsageError(`invalid label value "${value}" for "${key}": at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);
      }
      changes.set[key] = value;
    } else if (a.endsWith('-') && a.length > 1) {
      checkKey(a.slice(0, -1), what);
      changes.remove.push(a.slice(0, -1));
    } else {
      names.push(a);
    }
  }
  if (Object.keys(changes.set).length === 0 && changes.remove.length === 0) throw new UsageError(`at least one ${what} update is required (KEY=VALUE to set, KEY- to remove)`);
  return { names, changes };
}

/** The merge patch for the changes, or a conflict error when --overwrite is missing. */
export function metaPatch(current: Record<string, string> | undefined, changes: MetaChanges, overwrite: boolean): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(changes.set)) {
    const old = current?.[k];
    if (old === v) continue;
    if (old !== undefined && !overwrite) throw new UsageError(`'${k}' already has a value (${old}), and --overwrite is false`);
    patch[k] = v;
  }
  for (const k of changes.remove) if (current && k in current) patch[k] = null;
  return Object.keys(patch).length ? patch : undefined;
}

async function objectsFor(kube: Kube, args: string[], flags: { selector?: string; all?: boolean }): Promise<{ info: ResourceInfo; objects: KubeObj[] }[]> {
  const out: { info: ResourceInfo; objects: KubeObj[] }[] = [];
  for (const g of typeNameArgs(args)) {
    const info = await kube.discovery.resolve(g.type);
    if (g.names.length) {
      out.push({ info, objects: await Promise.all(g.names.map((n) => kube.client.get<KubeObj>(kube.path(info, n)))) });
    } else if (flags.selector || flags.all) {
      const list = await kube.client.get<{ items: KubeObj[] }>(kube.path(info), { labelSelector: flags.selector });
      out.push({ info, objects: list.items });
    } else {
      throw new UsageError(`name the ${info.resource} to change, or use -l SELECTOR or --all`);
    }
  }
  return out;
}

async function runMeta(kube: Kube, what: 'label' | 'annotation', args: string[], flags: MetaFlags): Promise<void> {
  const resourceArgs: string[] = [];
  const rest: string[] = [];
  for (const a of args) (a.includes('=') || (a.endsWith('-') && a.length > 1) ? rest : resourceArgs).push(a);
  if (resourceArgs.length === 0) throw new UsageError(`you must specify the type of resource to ${what}, e.g. "keel ${what} pod NAME key=value"`);
  const { changes } = parseMetaChanges(rest, what);
  const field = what === 'label' ? 'labels' : 'annotations';
  const verb = what === 'label' ? 'labeled' : 'annotated';
  for (const { info, objects } of await objectsFor(kube, resourceArgs, flags)) {
    for (const obj of objects) {
      const name = obj.metadata!.name!;
      const patch = metaPatch(obj.metadata?.[field] as Record<string, string> | undefined, changes, flags.overwrite === true);
      if (!patch) {
        out(`${kindName(info)}/${name} not ${verb}`);
        continue;
      }
      await kube.client.json({
        method: 'PATCH',
        path: kube.path(info, name, obj.metadata?.namespace ?? kube.namespace),
        body: { metadata: { [field]: patch } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: 'keel-' + what },
      });
      out(`${kindName(info)}/${name} ${verb}`);
    }
  }
}

async function runScale(kube: Kube, args: string[], flags: { replicas?: string; currentReplicas?: string }): Promise<void> {
  if (flags.replicas === undefined) throw new UsageError('required flag "--replicas" not set');
  const replicas = Number(flags.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) throw new UsageError(`--replicas must be a whole number 0 or more, got "${flags.replicas}"`);
  const groups = typeNameArgs(args);
  if (groups.length === 0 || groups.every((g) => g.names.length === 0)) throw new UsageError('name what to scale, e.g. "keel scale deployment/web --replicas=3"');
  for (const g of groups) {
    const info = await kube.discovery.resolve(g.type);
    for (const name of g.names) {
      if (flags.currentReplicas !== undefined) {
        const scale = await kube.client.get<{ spec?: { replicas?: number } }>(kube.path(info, name, undefined, 'scale'));
        if ((scale.spec?.replicas ?? 0) !== Number(flags.currentReplicas)) {
          throw new UsageError(`expected replicas to be ${flags.currentReplicas}, was ${scale.spec?.replicas ?? 0}`);
        }
      }
      await kube.client.json({
        method: 'PATCH',
        path: kube.path(info, name, undefined, 'scale'),
        body: { spec: { replicas } },
        contentType: 'application/merge-patch+json',
      });
      out(`${kindName(info)}/${name} scaled`);
    }
  }
}

export function registerModify(program: Command): void {
  for (const what of ['label', 'annotation'] as const) {
    const name = what === 'label' ? 'label' : 'annotate';
    withKubeFlags(
      program
        .command(name)
        .description(`set (KEY=VALUE) or remove (KEY-) ${what}s: keel ${name} TYPE NAME… KEY=VALUE… KEY-…`)
        .argument('<args...>', 'TYPE NAME… (or TYPE/NAME…) then changes')
        .option('--overwrite', `replace ${what}s that already have a value`)
        .option('-l, --selector <selector>', 'change the objects with these labels')
        .option('--all', 'change every object of the type in the namespace'),
    ).action(action((kube, args: string[], flags: MetaFlags) => runMeta(kube, what, args, flags)));
  }
  withKubeFlags(
    program
      .command('scale')
      .description('set the replicas of a Deployment, ReplicaSet or StatefulSet (its scale subresource)')
      .argument('<args...>', 'TYPE NAME… or TYPE/NAME…')
      .option('--replicas <n>', 'the new number of replicas')
      .option('--current-replicas <n>', 'only if the current replicas are this'),
  ).action(action((kube, args: string[], flags: { replicas?: string; currentReplicas?: string }) => runScale(kube, args, flags)));
}
