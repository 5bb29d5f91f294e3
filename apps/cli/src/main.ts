// The `keel` command: the kubectl-style CLI of Keel, and `keel up` for a local cluster.
// Parses flags with commander, exits non-zero with a one-line reason on bad input.
import { Command, CommanderError } from 'commander';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatReport, upReport, type UpProbes } from './up';

const VERSION = '0.1.0';

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

/** The commands this checkout declares in package.json `bin`. */
function builtCommands(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; bin?: object };
      if (pkg.name === 'keel') return Object.keys(pkg.bin ?? {});
    } catch {
      // keep looking upwards
    }
    dir = dirname(dir);
  }
  return [];
}

const program = new Command('keel')
  .description('Keel: a Kubernetes-style container orchestrator')
  .version(VERSION, '--version')
  .exitOverride()
  .showHelpAfterError(false);

program
  .command('version')
  .description('print the client version')
  .action(() => console.log(`keel ${VERSION} (node ${process.versions.node})`));

program
  .command('up')
  .description('bring up a local cluster from the parts that are built, and report each part')
  .option('--registry <host:port>', 'the local image registry', '127.0.0.1:5000')
  .action(async (opts: { registry: string }) => {
    const probes: UpProbes = { which, registryImages, builtCommands };
    const report = await upReport(probes, opts.registry);
    console.log(formatReport(report));
    if (report.some((r) => r.state === 'missing')) process.exitCode = 1;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander already printed the reason; help and version are not failures.
    process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
  }
  console.error(`keel: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
