// Background daemons our tools start (docker-registry, etcd, containerd, Keel's own
// servers): spawned detached with output to a log file, their PID recorded in a pid file
// beside their data, and stopped only through that PID — after checking /proc that the PID
// still runs the same command line, so a recycled PID is never signalled. Nothing here ever
// finds or kills a process by name.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface DaemonSpec {
  /** Executable and arguments. */
  argv: [string, ...string[]];
  /** Where the PID is recorded; its folder (or an ancestor's last element) must be named keel-…. */
  pidFile: string;
  /** Where stdout and stderr go (appended). */
  logFile: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Resolves true once the daemon serves; polled until `readyTimeoutMs`. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Run inside this network namespace (via nsenter --net=/var/run/netns/NAME). */
  netns?: string;
}

export interface RunningDaemon {
  pid: number;
  stop(graceMs?: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkOwned(path: string): string {
  const abs = resolve(path);
  if (!abs.split('/').some((part) => part.startsWith('keel-'))) {
    throw new Error(`daemon files must live under a keel-… folder, got ${abs}`);
  }
  return abs;
}

function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** What the pid file records: the PID and the command line it was started with. */
interface PidRecord {
  pid: number;
  argv: string[];
}

function readRecord(pidFile: string): PidRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
    return Number.isInteger(record.pid) && Array.isArray(record.argv) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** True when `record.pid` is alive and still runs the recorded command line (and is not a zombie). */
function matches(record: PidRecord): boolean {
  const actual = cmdline(record.pid);
  if (!actual || actual.length === 0) return false;
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
  } catch {
    return false;
  }
  // nsenter execs the daemon, so compare the tail of the command line.
  const tail = record.argv.slice(-Math.min(record.argv.length, actual.length));
  return tail.every((arg, i) => actual[actual.length - tail.length + i] === arg);
}

/** True once the process has exited (a zombie, or no longer in /proc). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Waits out the moment between an exiting process releasing its memory (its command line
 * reads empty, so it no longer matches) and its becoming a zombie, so a stop that returns
 * means exited. Bounded: after the exit the PID could in principle be reused.
 */
async function exitSettled(pid: number): Promise<void> {
  for (let i = 0; i < 100 && !gone(pid) && cmdline(pid)?.length === 0; i++) await sleep(5);
}

/** The daemon recorded in `pidFile`, when it still runs. */
export function runningDaemon(pidFile: string): PidRecord | undefined {
  const record = readRecord(checkOwned(pidFile));
  return record && matches(record) ? record : undefined;
}

/** Stops the daemon recorded in `pidFile`: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopDaemon(pidFile: string, graceMs = 5000): Promise<boolean> {
  const file = checkOwned(pidFile);
  const record = readRecord(file);
  rmSync(file, { force: true });
  if (!record || !matches(record)) return false;
  try {
    process.kill(record.pid, 'SIGTERM');
  } catch {
    return true;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && matches(record)) await sleep(25);
  if (matches(record)) {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (matches(record)) await sleep(10);
  }
  await exitSettled(record.pid);
  return true;
}

/** Kills the daemon at once (SIGKILL), as a crash would; for failure tests. */
export async function killDaemon(pidFile: string): Promise<boolean> {
  const record = readRecord(checkOwned(pidFile));
  if (!record || !matches(record)) return false;
  process.kill(record.pid, 'SIGKILL');
  while (matches(record)) await sleep(10);
  await exitSettled(record.pid);
  return true;
}

/**
 * Environment a Node daemon (Keel's own servers) starts with unless the caller's says
 * otherwise. MALLOC_ARENA_MAX=2: glibc gives every thread that allocates (libuv's pool,
 * LevelDB's compaction, gRPC) an arena of its own, each keeping what was freed in it; a
 * keel-store member after 100,000 puts held 301 MiB with the default arenas and 211 MiB with two.
 */
export function nodeDaemonDefaults(argv: readonly string[]): Record<string, string> {
  return argv[0] === process.execPath || basename(argv[0] ?? '') === 'node' ? { MALLOC_ARENA_MAX: '2' } : {};
}

/** Starts the daemon detached, records its PID, and waits until `ready()` says it serves. */
export async function startDaemon(spec: DaemonSpec): Promise<RunningDaemon> {
  const pidFile = checkOwned(spec.pidFile);
  if (runningDaemon(pidFile)) throw new Error(`${basename(spec.argv[0])} already runs from ${pidFile}; stop it first`);
  mkdirSync(dirname(pidFile), { recursive: true });
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const argv = spec.netns ? ['nsenter', `--net=/var/run/netns/${spec.netns}`, ...spec.argv] : [...spec.argv];
  if (spec.netns && !existsSync(`/var/run/netns/${spec.netns}`)) throw new Error(`no network namespace ${spec.netns}`);
  const log = openSync(spec.logFile, 'a');
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...nodeDaemonDefaults(spec.argv), ...process.env, ...spec.env },
  });
  closeSync(log);
  let exit: string | undefined;
  child.on('error', (err) => (exit = err.message));
  child.on('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exited with ${code}`));
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    await sleep(10);
    throw new Error(`${spec.argv[0]} did not start: ${exit ?? 'no PID'}`);
  }
  writeFileSync(pidFile, JSON.stringify({ pid, argv: spec.argv }) + '\n');
  const stop = async (graceMs?: number) => void (await stopDaemon(pidFile, graceMs));

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (await spec.ready().catch(() => false)) return { pid, stop };
    // Our own unreaped child cannot have its PID reused, so "gone" here means gone or a zombie:
    // its command line is not compared, because between fork and exec (and nsenter's exec) it
    // is briefly another program's, and a daemon caught in that window was stopped as "gone".
    if (exit !== undefined || gone(pid) || Date.now() > deadline) {
      // The process may be gone a moment before Node reports its exit status: wait for it.
      if (exit === undefined && gone(pid)) {
        await new Promise((r) => {
          child.once('exit', r);
          setTimeout(r, 1000);
        });
      }
      const tail = existsSync(spec.logFile)
        ? readFileSync(spec.logFile, 'utf8').trimEnd().split('\n').slice(-8).join('\n')
        : '';
      await stopDaemon(pidFile, 1000);
      const why = exit ?? (Date.now() > deadline ? 'was not ready in time' : 'went away');
      throw new Error(`${basename(spec.argv[0])} ${why}; last log lines:\n${tail}`);
    }
    await sleep(50);
  }
}

/** Resolves true when an HTTP GET of `url` answers `status` (default 200). */
export async function httpAnswers(url: string, status = 200): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === status;
  } catch {
    return false;
  }
}
