// The local OCI registry: Debian's docker-registry bound to loopback, its data, config,
// log and PID file all under one `keel-` folder this tool owns. Started detached (through
// @keel/process) so it outlives the command that started it; stopped only through
// the PID recorded at start.
import { httpAnswers, runningDaemon, startDaemon, stopDaemon } from '@keel/process';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DEFAULT_REGISTRY_ADDR = '127.0.0.1:5000';

export interface Registry {
  addr: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** The registry's own folder; its last path element must start with `keel-`. */
  dir: string;
  /** host:port on loopback. */
  addr?: string;
  /** How long to wait for it to answer, in ms. */
  readyTimeoutMs?: number;
}

function checkDir(dir: string): string {
  const abs = resolve(dir);
  if (!basename(abs).startsWith('keel-')) {
    throw new Error(`registry dir must be named keel-…, got ${abs}`);
  }
  return abs;
}

function checkAddr(addr: string): void {
  if (!/^127\.\d+\.\d+\.\d+:\d+$/.test(addr)) {
    throw new Error(`registry addr must be a loopback host:port such as 127.0.0.1:5000, got "${addr}"`);
  }
}

const pidFile = (dir: string) => join(dir, 'registry.pid');
const configFile = (dir: string) => join(dir, 'config.yml');

/** The address a config file in `dir` makes the registry listen on. */
function configuredAddr(dir: string): string | undefined {
  try {
    return /^\s+addr: (\S+)$/m.exec(readFileSync(configFile(dir), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The registry recorded in `dir`, if it is running. */
export function runningRegistry(dirArg: string): { pid: number; addr: string } | undefined {
  const dir = checkDir(dirArg);
  const running = runningDaemon(pidFile(dir));
  const addr = configuredAddr(dir);
  return running && addr ? { pid: running.pid, addr } : undefined;
}

/** Stops the registry recorded in `dir` (SIGTERM, then SIGKILL after a grace period). */
export async function stopRegistry(dirArg: string, graceMs = 5000): Promise<boolean> {
  return stopDaemon(pidFile(checkDir(dirArg)), graceMs);
}

/**
 * Starts the registry (or finds it already running from the same folder and address)
 * and waits until it answers `GET /v2/`.
 */
export async function startRegistry(opts: RegistryOptions): Promise<Registry> {
  const dir = checkDir(opts.dir);
  const addr = opts.addr ?? DEFAULT_REGISTRY_ADDR;
  checkAddr(addr);
  const handle = (pid: number): Registry => ({ addr, pid, dir, stop: async () => void (await stopRegistry(dir)) });

  const existing = runningRegistry(dir);
  if (existing) {
    if (existing.addr !== addr) {
      throw new Error(`registry in ${dir} already runs on ${existing.addr}, not ${addr}; stop it first`);
    }
    return handle(existing.pid);
  }
  const probe = () => httpAnswers(`http://${addr}/v2/`);
  if (await probe()) {
    throw new Error(`something else already answers on ${addr}: not starting a second registry there`);
  }

  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(
    configFile(dir),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${addr}`,
      '',
    ].join('\n'),
  );
  const daemon = await startDaemon({
    argv: ['docker-registry', 'serve', configFile(dir)],
    pidFile: pidFile(dir),
    logFile: join(dir, 'registry.log'),
    ready: probe,
    readyTimeoutMs: opts.readyTimeoutMs ?? 10_000,
  });
  return handle(daemon.pid);
}

/** Pushes one OCI layout to the registry as `ref` (`name:tag`) with skopeo. */
export async function pushImage(layoutDir: string, ref: string, addr = DEFAULT_REGISTRY_ADDR): Promise<void> {
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  const tag = index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'];
  if (!tag) throw new Error(`${layoutDir} has no tagged image in index.json`);
  try {
    await run(
      'skopeo',
      [
        '--insecure-policy',
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        `oci:${layoutDir}:${tag}`,
        `docker://${addr}/${ref}`,
      ],
      { timeout: 60_000 },
    );
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`skopeo could not push ${ref} to ${addr}: ${stderr.trim()}`, { cause: err });
  }
}

/** The manifest digest the registry holds for `ref`, from the registry API. */
export async function registryDigest(ref: string, addr = DEFAULT_REGISTRY_ADDR): Promise<string | undefined> {
  const colon = ref.lastIndexOf(':');
  const res = await fetch(`http://${addr}/v2/${ref.slice(0, colon)}/manifests/${ref.slice(colon + 1)}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`registry answered ${res.status} for ${ref}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}
