// The `keel` command: the kubectl-style CLI of Keel, and `keel up` / `keel down` /
// `keel status` for a local cluster. Parses flags with commander; exits non-zero with a
// one-line reason on bad input.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerKubeCommands } from './commands';
import { withSpinner } from './print/progress';
import { haDown, haStatus, haUp, isHaFolder, withHaFlags, type HaFlags } from './ha/commands';
import { applyManifests, parseManifests } from './local/apply';
import { LocalCluster } from './local/cluster';
import { waitForSample } from './local/sample';
import { formatReport, prerequisiteChecks, sampleAppNote, type UpProbes } from './up';

const VERSION = '0.1.0';
const here = dirname(fileURLToPath(import.meta.url));
/** dist/apps, where every command's bundle sits beside this one. */
const bundles = resolve(here, '..');
/** The checkout (or package) root: dist/apps/cli → ../../.. */
const root = resolve(here, '../../..');

function which(binary: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    const path = join(dir, binary);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function registryImages(addr: string): Promise<{ images: string[] } | { error: string }> {
  try {
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`http://${addr}${path}`, { signal: AbortSignal.timeout(3000) });
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
      return (await res.json()) as T;
    };
    const { repositories } = await get<{ repositories: string[] }>('/v2/_catalog');
    const images: string[] = [];
    for (const repo of repositories) {
      const { tags } = await get<{ tags: string[] | null }>(`/v2/${repo}/tags/list`);
      for (const tag of tags ?? []) images.push(`${repo}:${tag}`);
    }
    return { images };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { error: cause ?? (err instanceof Error ? err.message : String(err)) };
  }
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number 1-65535');
  return n;
}

function clusterDir(value: string): string {
  const dir = resolve(value);
  if (!basename(dir).startsWith('keel-')) throw new InvalidArgumentError(`the cluster folder must be named keel-…, got ${dir}`);
  return dir;
}

interface ClusterFlags {
  dir: string;
  storePort: number;
  apiserverPort: number;
  node?: boolean;
  registry?: string;
}

const withClusterFlags = (cmd: Command) =>
  cmd
    .option('--dir <dir>', 'the local cluster folder (named keel-…)', clusterDir, join(homedir(), '.keel', 'keel-local'))
    .option('--store-port <port>', 'keel-store client port (peer port is one above)', port, 2379)
    .option('--apiserver-port <port>', 'keel-apiserver HTTPS port (its keel.v1 gRPC port is the next one)', port, 6443);

const cluster = (flags: ClusterFlags) =>
  new LocalCluster({
    dir: flags.dir,
    bundles,
    storePort: flags.storePort,
    apiserverPort: flags.apiserverPort,
    node: flags.node !== false,
    registry: flags.registry ?? '127.0.0.1:5000',
  });

const program = new Command('keel')
  .description('Keel: a Kubernetes-style container orchestrator')
  .version(VERSION, '--version')
  .exitOverride()
  .showHelpAfterError(false);

registerKubeCommands(program, VERSION);

const localDefault = join(homedir(), '.keel', 'keel-local');

withHaFlags(withClusterFlags(
  program
    .command('up')
    .description('start a local cluster from the parts that are built, run the sample app, and report every part')
    .option('--registry <host:port>', 'the local image registry', '127.0.0.1:5000')
    .option('--sample <file>', 'manifests of the sample app', join(root, 'examples', 'web.yaml'))
    .option('--no-sample', 'do not apply the sample app')
    .option('--no-node', 'run only the control plane (no containerd, no keel-agent)'),
), true).action(async (flags: ClusterFlags & HaFlags & { registry: string; sample: string | false }) => {
  if (flags.ha) {
    if (!(await haUp(flags, { bundles, localDefault }))) process.exitCode = 1;
    return;
  }
  const probes: UpProbes = { which, registryImages };
  const checks = await prerequisiteChecks(probes, flags.registry);
  const local = cluster(flags);
  const parts = await withSpinner('starting the local cluster…', () => local.up());
  console.log(formatReport(checks, parts));
  const apiUp = parts.some((p) => p.part === 'keel-apiserver' && (p.state === 'running' || p.state === 'started'));
  if (apiUp) {
    console.log(`\nAPI server: ${local.apiserverUrl}   kubeconfig: ${local.kubeconfigPath}`);
    console.log(`  export KUBECONFIG=${local.kubeconfigPath}; kubectl get all -A`);
    if (flags.sample) {
      const api = await local.adminConnection();
      const applied = await applyManifests(api, parseManifests(readFileSync(flags.sample, 'utf8'))).finally(() => api.close());
      console.log(`\nsample app (${flags.sample}):`);
      for (const a of applied) console.log(`  ${a.kind.toLowerCase()}/${a.name}${a.namespace ? ` -n ${a.namespace}` : ''} ${a.result}`);
      const note = sampleAppNote(parts);
      if (note) console.log(`  ${note}`);
      else {
        const api = await local.adminConnection();
        const answers = await withSpinner('waiting for the sample app to answer…', () => waitForSample(api, applied)).finally(() => api.close());
        for (const a of answers) {
          if (a.answer !== undefined) console.log(`  ${a.service} answers at ${a.url}: ${a.answer}`);
          else {
            console.log(`  ${a.service} does not answer at ${a.url} (${a.error}); see \`keel get pods -A\` and the agent's log`);
            process.exitCode = 1;
          }
        }
      }
    }
  }
  console.log(`\nstop it with: keel down${flags.dir !== join(homedir(), '.keel', 'keel-local') ? ` --dir ${flags.dir}` : ''}`);
  if (checks.some((c) => c.state === 'missing') || parts.some((p) => p.state === 'failed')) process.exitCode = 1;
});

withHaFlags(withClusterFlags(program.command('down').description('stop the local cluster (by the PIDs keel up recorded)')), false).action(async (flags: ClusterFlags & HaFlags) => {
  if (isHaFolder(flags, localDefault)) return haDown(flags, { bundles, localDefault });
  for (const p of await cluster(flags).down()) console.log(`  ${p.part.padEnd(24)} ${p.detail}`);
});

withHaFlags(withClusterFlags(program.command('status').description('show which local cluster parts run')), false).action(async (flags: ClusterFlags & HaFlags) => {
  if (isHaFolder(flags, localDefault)) return haStatus(flags, { bundles, localDefault });
  for (const p of cluster(flags).status()) console.log(`  ${p.part.padEnd(24)} ${p.state.padEnd(9)} ${p.detail}`);
});

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander already printed the reason; help and version are not failures.
    process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
  }
  console.error(`keel: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
