// `keel logs`: a pod's container log from pods/{name}/log, streamed to stdout as it arrives
// (-f follows until the server ends it or keel is stopped). A workload (`deploy/web`,
// `rs/x`, `job/y`) stands for one of its pods, chosen from its selector as kubectl does.
import { Command } from 'commander';
import { readAll, statusError } from '../kube/rest';
import type { KubeObj } from '../print/objects';
import { action, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

interface LogsFlags {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  selector?: string;
}

interface PodLike extends KubeObj {
  spec?: { selector?: { matchLabels?: Record<string, string> } | Record<string, string>; containers?: { name: string }[] };
  status?: { phase?: string };
}

/** The pod a logs or exec argument names: `pod`, `pod/x`, or a workload with a selector. */
export async function podFor(kube: Kube, args: string[]): Promise<string> {
  const [first] = args;
  if (!first) throw new UsageError('name the pod, e.g. "keel logs web-1" or "keel logs deploy/web"');
  if (!first.includes('/')) return first;
  const [g] = typeNameArgs([first]);
  const info = await kube.discovery.resolve(g!.type);
  const name = g!.names[0]!;
  if (info.resource === 'pods') return name;
  const obj = await kube.client.get<PodLike>(kube.path(info, name));
  const sel = obj.spec?.selector;
  const labels = (sel && 'matchLabels' in sel ? (sel.matchLabels as Record<string, string>) : (sel as Record<string, string> | undefined)) ?? {};
  if (Object.keys(labels).length === 0) throw new UsageError(`${info.kind.toLowerCase()}/${name} has no selector to find its pods by`);
  const pods = await kube.discovery.resolve('pods');
  const list = await kube.client.get<{ items: PodLike[] }>(kube.path(pods), {
    labelSelector: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  });
  // Running pods first, then the newest: the one a person most likely wants.
  const sorted = [...list.items].sort(
    (a, b) => Number(b.status?.phase === 'Running') - Number(a.status?.phase === 'Running') || (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''),
  );
  const chosen = sorted[0];
  if (!chosen) throw new UsageError(`no pods found for ${info.kind.toLowerCase()}/${name}`);
  if (sorted.length > 1) process.stderr.write(`Found ${sorted.length} pods, using pod/${chosen.metadata!.name}\n`);
  return chosen.metadata!.name!;
}

async function runLogs(kube: Kube, args: string[], flags: LogsFlags): Promise<void> {
  if (args.length > 2) throw new UsageError('expected POD [CONTAINER]');
  const pod = await podFor(kube, args);
  const container = flags.container ?? args[1];
  if (flags.tail !== undefined && !/^-?\d+$/.test(flags.tail)) throw new UsageError(`--tail must be a number of lines, got "${flags.tail}"`);
  const pods = await kube.discovery.resolve('pods');
  const { res, req } = await kube.client.open({
    path: kube.path(pods, pod, undefined, 'log'),
    query: {
      container,
      follow: flags.follow ? 'true' : undefined,
      previous: flags.previous ? 'true' : undefined,
      tailLines: flags.tail !== undefined && Number(flags.tail) >= 0 ? flags.tail : undefined,
      timestamps: flags.timestamps ? 'true' : undefined,
      sinceSeconds: flags.since,
    },
    accept: '*/*',
    timeoutMs: flags.follow ? 0 : 60_000,
  });
  if ((res.statusCode ?? 0) >= 300) throw statusError(res.statusCode ?? 0, await readAll(res));
  const stop = () => req.destroy();
  process.once('SIGINT', stop);
  await new Promise<void>((resolve, reject) => {
    res.on('data', (c: Buffer) => process.stdout.write(c));
    res.on('end', resolve);
    res.on('close', resolve);
    res.on('error', reject);
  }).finally(() => process.off('SIGINT', stop));
}

export function registerLogs(program: Command): void {
  withKubeFlags(
    program
      .command('logs')
      .description("print a container's log: keel logs POD|TYPE/NAME [-c CONTAINER]")
      .argument('<args...>', 'POD [CONTAINER], or TYPE/NAME of a workload')
      .option('-c, --container <name>', 'the container (default: the only or the default one)')
      .option('-f, --follow', 'keep printing new lines')
      .option('-p, --previous', "the previous (crashed) instance's log")
      .option('--tail <lines>', 'only the last N lines')
      .option('--timestamps', 'prefix each line with its time')
      .option('--since <seconds>', 'only lines newer than this many seconds'),
  ).action(action((kube, args: string[], flags: LogsFlags) => runLogs(kube, args, flags)));
}
