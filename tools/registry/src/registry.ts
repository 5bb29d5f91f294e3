// The local OCI registry: Debian's docker-registry bound to loopback, its data, config,
// log and PID file all under one `keel-` folder this tool owns. Started detached so it
// outlives the command that started it; stopped only through the PID recorded at start
// (checked against /proc first, so a recycled PID is never signalled).
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  const match = /^(127\.\d+\.\d+\.\d+):(\d+)$/.exec(addr);
  if (!match) throw new Error(`registry addr must be a loopback host:port such as 127.0.0.1:5000, got "${addr}"`);
}

const pidFile = (dir: string) => join(dir, 'registry.pid');

/** True when `pid` is alive and is a docker-registry serving this folder's config. */
function isOurRegistry(pid: number, dir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((a) => a.endsWith('docker-registry')) && cmdline.includes(join(dir, 'config.yml'));
  } catch {
    return false;
  }
}

async function answers(addr: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${addr}/v2/`, { signal: AbortSignal.timeout(1000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The registry recorded in `dir`, if it is running. */
export function runningRegistry(dirArg: string): { pid: number; addr: string } | undefined {
  const dir = checkDir(dirArg);
  if (!existsSync(pidFile(dir))) return undefined;
  const [pidText, addr] = readFileSync(pidFile(dir), 'utf8').trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || !addr || !isOurRegistry(pid, dir)) return undefined;
  return { pid, addr };
}

/** Stops the registry recorded in `dir` (SIGTERM, then SIGKILL after a grace period). */
export async function stopRegistry(dirArg: string, graceMs = 5000): Promise<boolean> {
  const dir = checkDir(dirArg);
  const running = runningRegistry(dir);
  rmSync(pidFile(dir), { force: true });
  if (!running) return false;
  process.kill(running.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurRegistry(running.pid, dir)) return true;
    await sleep(50);
  }
  if (isOurRegistry(running.pid, dir)) process.kill(running.pid, 'SIGKILL');
  while (isOurRegistry(running.pid, dir)) await sleep(20);
  return true;
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
  if (await answers(addr)) {
    throw new Error(`something else already answers on ${addr}: not starting a second registry there`);
  }

  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
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
  const log = openSync(join(dir, 'registry.log'), 'a');
  const child = spawn('docker-registry', ['serve', config], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('docker-registry did not start (is it installed? run tools/prereqs/install.sh)');
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  child.unref();
  writeFileSync(pidFile(dir), `${pid} ${addr}\n`);

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  while (!(await answers(addr))) {
    if (exited !== null || Date.now() > deadline) {
      const tail = readFileSync(join(dir, 'registry.log'), 'utf8').split('\n').slice(-5).join('\n');
      await stopRegistry(dir);
      throw new Error(
        exited !== null
          ? `docker-registry exited with ${exited}:\n${tail}`
          : `docker-registry did not answer on ${addr} in time:\n${tail}`,
      );
    }
    await sleep(50);
  }
  return handle(pid);
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
