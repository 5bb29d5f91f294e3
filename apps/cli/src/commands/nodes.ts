// Node commands: cordon and uncordon (spec.unschedulable), taint (add `key[=value]:Effect`,
// remove `key-` or `key:Effect-`), and drain: cordon, then evict every pod on the node through
// pods/eviction (so PodDisruptionBudgets are honoured), retrying while the server says 429,
// and wait for them to go.
import { Command } from 'commander';
import { ApiStatusError } from '../kube/rest';
import type { KubeObj } from '../print/objects';
import { action, out, parseDuration, sleep, UsageError, withKubeFlags, type Kube } from './context';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export interface TaintChange {
  add: Taint[];
  remove: { key: string; effect?: string }[];
}

export function parseTaints(specs: string[]): TaintChange {
  const change: TaintChange = { add: [], remove: [] };
  for (const spec of specs) {
    if (spec.endsWith('-')) {
      const body = spec.slice(0, -1);
      const [key, effect] = body.split(':') as [string, string | undefined];
      if (!key) throw new UsageError(`invalid taint "${spec}": the key is empty`);
      if (effect !== undefined && !EFFECTS.includes(effect)) throw new UsageError(`invalid taint effect "${effect}" in "${spec}": expected ${EFFECTS.join(', ')}`);
      change.remove.push({ key, ...(effect ? { effect } : {}) });
      continue;
    }
    const m = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(spec);
    if (!m) throw new UsageError(`invalid taint "${spec}": expected KEY[=VALUE]:EFFECT to add, or KEY[:EFFECT]- to remove`);
    if (!EFFECTS.includes(m[3]!)) throw new UsageError(`invalid taint effect "${m[3]}" in "${spec}": expected ${EFFECTS.join(', ')}`);
    change.add.push({ key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect: m[3]! });
  }
  return change;
}

/** The node's new taints, or an error naming a taint to remove that is not there / one that exists. */
export function applyTaints(current: Taint[], change: TaintChange, overwrite: boolean): Taint[] {
  let next = [...current];
  for (const r of change.remove) {
    const before = next.length;
    next = next.filter((t) => !(t.key === r.key && (r.effect === undefined || t.effect === r.effect)));
    if (next.length === before) throw new UsageError(`taint "${r.key}${r.effect ? `:${r.effect}` : ''}" not found`);
  }
  for (const a of change.add) {
    const i = next.findIndex((t) => t.key === a.key && t.effect === a.effect);
    if (i >= 0) {
      if (!overwrite && (next[i]!.value ?? '') !== (a.value ?? '')) throw new UsageError(`node already has a taint with key (${a.key}) and effect (${a.effect}), and --overwrite is false`);
      next[i] = a;
    } else {
      next.push(a);
    }
  }
  return next;
}

async function nodesInfo(kube: Kube) {
  return kube.discovery.resolve('nodes');
}

async function setUnschedulable(kube: Kube, names: string[], value: boolean): Promise<void> {
  if (names.length === 0) throw new UsageError(`name the node to ${value ? 'cordon' : 'uncordon'}`);
  const info = await nodesInfo(kube);
  for (const name of names) {
    const node = await kube.client.get<{ spec?: { unschedulable?: boolean } }>(kube.path(info, name));
    if ((node.spec?.unschedulable === true) === value) {
      out(`node/${name} already ${value ? 'cordoned' : 'uncordoned'}`);
      continue;
    }
    await kube.client.json({ method: 'PATCH', path: kube.path(info, name), body: { spec: { unschedulable: value ? true : null } }, contentType: 'application/merge-patch+json' });
    out(`node/${name} ${value ? 'cordoned' : 'uncordoned'}`);
  }
}

async function runTaint(kube: Kube, args: string[], flags: { overwrite?: boolean }): Promise<void> {
  let [type, ...rest] = args;
  if (type?.includes('/')) {
    rest = [type.slice(type.indexOf('/') + 1), ...rest];
    type = type.slice(0, type.indexOf('/'));
  }
  const info = type ? await kube.discovery.resolve(type) : undefined;
  if (!info || info.resource !== 'nodes') throw new UsageError('taint applies to nodes: keel taint nodes NAME KEY[=VALUE]:EFFECT… | KEY-');
  const [name, ...specs] = rest;
  if (!name || specs.length === 0) throw new UsageError('name the node and at least one taint: keel taint nodes NAME KEY[=VALUE]:EFFECT');
  const change = parseTaints(specs);
  const node = await kube.client.get<KubeObj & { spec?: { taints?: Taint[] } }>(kube.path(info, name));
  const taints = applyTaints(node.spec?.taints ?? [], change, flags.overwrite === true);
  // The resourceVersion makes this a compare-and-swap: a concurrent change to the taints fails instead of being lost.
  await kube.client.json({
    method: 'PATCH',
    path: kube.path(info, name),
    body: { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: taints.length ? taints : null } },
    contentType: 'application/merge-patch+json',
  });
  out(`node/${name} ${change.add.length ? (change.remove.length ? 'modified' : 'tainted') : 'untainted'}`);
}

interface DrainFlags {
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  force?: boolean;
  timeout?: string;
  gracePeriod?: string;
}

interface PodObj extends KubeObj {
  spec?: { volumes?: { name: string; emptyDir?: unknown }[] };
  status?: { phase?: string };
}

async function runDrain(kube: Kube, name: string, flags: DrainFlags): Promise<void> {
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout, '--timeout') : 0;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.MAX_SAFE_INTEGER;
  await setUnschedulable(kube, [name], true);
  const pods = await kube.discovery.resolve('pods');
  const list = await kube.client.get<{ items: PodObj[] }>(kube.path(pods, undefined, ''), { fieldSelector: `spec.nodeName=${name}` });
  const evict: PodObj[] = [];
  const problems: string[] = [];
  const ignored: string[] = [];
  for (const p of list.items) {
    const id = `${p.metadata?.namespace}/${p.metadata?.name}`;
    if (p.metadata?.annotations?.['kubernetes.io/config.mirror']) continue;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') {
      evict.push(p);
      continue;
    }
    const owner = p.metadata?.ownerReferences?.find((o) => o.controller);
    if (owner?.kind === 'DaemonSet') {
      if (flags.ignoreDaemonsets) ignored.push(id);
      else problems.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${id}`);
      continue;
    }
    if (!owner && !flags.force) {
      problems.push(`cannot delete Pods that declare no controller (use --force to override): ${id}`);
      continue;
    }
    if (p.spec?.volumes?.some((v) => v.emptyDir !== undefined) && !flags.deleteEmptydirData) {
      problems.push(`cannot delete Pods with local storage (use --delete-emptydir-data to override): ${id}`);
      continue;
    }
    evict.push(p);
  }
  if (problems.length) throw new UsageError(`unable to drain node "${name}" due to error: ${problems.join(', ')}`);
  if (ignored.length) process.stderr.write(`Warning: ignoring DaemonSet-managed Pods: ${ignored.join(', ')}\n`);
  for (const p of evict) {
    const ns = p.metadata!.namespace!;
    const podName = p.metadata!.name!;
    out(`evicting pod ${ns}/${podName}`);
    const body = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: podName, namespace: ns },
      ...(flags.gracePeriod !== undefined ? { deleteOptions: { gracePeriodSeconds: Number(flags.gracePeriod) } } : {}),
    };
    for (;;) {
      try {
        await kube.client.json({ method: 'POST', path: kube.path(pods, podName, ns, 'eviction'), body });
        break;
      } catch (err) {
        if (err instanceof ApiStatusError && err.code === 404) break;
        if (err instanceof ApiStatusError && err.code === 429 && Date.now() < deadline) {
          process.stderr.write(`error when evicting pods/"${podName}" -n "${ns}" (will retry after 5s): ${err.message}\n`);
          await sleep(5000);
          continue;
        }
        throw err;
      }
    }
  }
  for (const p of evict) {
    const path = kube.path(pods, p.metadata!.name!, p.metadata!.namespace!);
    for (;;) {
      try {
        const now = await kube.client.get<KubeObj>(path);
        if (now.metadata?.uid !== p.metadata?.uid) break;
      } catch (err) {
        if (err instanceof ApiStatusError && err.code === 404) break;
        throw err;
      }
      if (Date.now() >= deadline) throw new UsageError(`drain did not complete within ${flags.timeout}: pod ${p.metadata?.namespace}/${p.metadata?.name} is still there`);
      await sleep(500);
    }
    out(`pod/${p.metadata!.name} evicted`);
  }
  out(`node/${name} drained`);
}

export function registerNodes(program: Command): void {
  withKubeFlags(program.command('cordon').description('mark nodes unschedulable').argument('<nodes...>')).action(
    action((kube, names: string[]) => setUnschedulable(kube, names, true)),
  );
  withKubeFlags(program.command('uncordon').description('mark nodes schedulable again').argument('<nodes...>')).action(
    action((kube, names: string[]) => setUnschedulable(kube, names, false)),
  );
  withKubeFlags(
    program
      .command('taint')
      .description('add or remove node taints: keel taint nodes NAME KEY[=VALUE]:EFFECT | KEY[:EFFECT]-')
      .argument('<args...>')
      .option('--overwrite', 'replace a taint with the same key and effect'),
  ).action(action((kube, args: string[], flags: { overwrite?: boolean }) => runTaint(kube, args, flags)));
  withKubeFlags(
    program
      .command('drain')
      .description('cordon a node and evict its pods')
      .argument('<node>')
      .option('--ignore-daemonsets', 'leave DaemonSet pods in place')
      .option('--delete-emptydir-data', 'evict pods with emptyDir volumes (their data is lost)')
      .option('--force', 'evict pods that no controller manages')
      .option('--grace-period <seconds>', 'seconds each pod gets to stop')
      .option('--timeout <duration>', 'give up after this long, e.g. 2m (default: no limit)'),
  ).action(action((kube, name: string, flags: DrainFlags) => runDrain(kube, name, flags)));
}
