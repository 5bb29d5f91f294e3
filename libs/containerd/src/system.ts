// Small wrappers around the host commands the launcher needs (ip, iptables, runc, umount),
// optionally run inside a node's network namespace with `nsenter --net` (never
// `ip netns exec`: it remounts /sys and runc then finds no cgroup mount).
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command, never throwing: the caller decides what a non-zero exit means. */
export function run(cmd: string, args: string[], opts: { netns?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const [file, argv] = opts.netns ? ['nsenter', [`--net=/var/run/netns/${opts.netns}`, cmd, ...args]] : [cmd, args];
  return new Promise((resolve) => {
    const child = execFile(file, argv, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr) || (err && !stderr ? err.message : ''), code });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run, but throws with the command's stderr when it fails. */
export async function mustRun(cmd: string, args: string[], opts: { netns?: string; input?: string } = {}): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

export function linkExists(name: string, netns?: string): Promise<boolean> {
  return run('ip', ['link', 'show', 'dev', name], { netns }).then((r) => r.code === 0);
}

/** Names of links of a type (e.g. bridge) in a network namespace. */
export async function linksOfType(type: string, netns?: string): Promise<string[]> {
  const res = await run('ip', ['-o', 'link', 'show', 'type', type], { netns });
  return res.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
}

/** IPv4 routes of every table (main and local) as "dst dev" pairs, to find a pod CIDR that would clash. */
export async function ipv4Routes(netns?: string): Promise<{ dst: string; dev: string }[]> {
  const res = await run('ip', ['-4', 'route', 'show', 'table', 'all'], { netns });
  const routes: { dst: string; dev: string }[] = [];
  for (const line of res.stdout.split('\n')) {
    const words = line.trim().split(/\s+/);
    // A leading route type (local, unreachable, ...) comes before the destination.
    if (['broadcast', 'multicast', 'anycast'].includes(words[0] ?? '')) continue;
    if (['local', 'unicast', 'unreachable', 'blackhole', 'prohibit', 'throw', 'nat'].includes(words[0] ?? '')) words.shift();
    const dst = words[0];
    if (!dst) continue;
    const devAt = words.indexOf('dev');
    routes.push({ dst: dst === 'default' ? '0.0.0.0/0' : dst, dev: devAt >= 0 ? (words[devAt + 1] ?? '') : '' });
  }
  return routes;
}

export async function readSysctl(key: string, netns?: string): Promise<string> {
  const res = await run('sysctl', ['-n', key], { netns });
  return res.stdout.trim();
}

export async function writeSysctl(key: string, value: string, netns?: string): Promise<void> {
  await run('sysctl', ['-w', `${key}=${value}`], { netns });
}

/** The process's command line, or undefined if it is gone. */
export function cmdlineOf(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text ? text.split('\0').filter((a) => a !== '') : undefined;
  } catch {
    return undefined;
  }
}

/** PIDs whose command line satisfies `match` (read from /proc; no process names involved). */
export function pidsWhere(match: (argv: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = cmdlineOf(Number(entry));
    if (argv && match(argv)) pids.push(Number(entry));
  }
  return pids;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Mount points at or under `dir`, deepest first, from this process's mount table. */
export function mountsUnder(dir: string): string[] {
  const table = readFileSync('/proc/self/mountinfo', 'utf8');
  const points = table
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}
