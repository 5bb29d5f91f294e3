// "A host on this machine": a network namespace keel-… joined to a root-side bridge
// keel-… by a veth pair, with its own address on the bridge subnet and no default route.
// This file owns creating and removing bridges and hosts (idempotently), routes in a host
// or on the root side, the root-side iptables rules that keep the hosts' traffic on the
// machine, publishing a root loopback port to the hosts, and the processes in a host:
// start one as a daemon (PID recorded by @keel/process), list them, kill them.
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { startDaemon, stopDaemon, type DaemonSpec, type RunningDaemon } from '@keel/process';
import {
  addRouteCommand,
  bridgeForwardRule,
  bridgeOf,
  bridgeRulesCleanup,
  checkHostAddress,
  configureBridgeCommands,
  configureHostCommands,
  createBridgeCommands,
  createNetnsCommands,
  createVethCommands,
  egressGuardRule,
  publishLoopbackRule,
  removeRouteCommand,
  type Bridge,
  type BridgeSpec,
  type RouteSpec,
} from './commands';
import { ensureRule, mustRun, run, type RunResult } from './exec';
import { HOST_INTERFACE, assertKeelName, assertLinkName, netnsPath, vethName } from './names';

export interface Host {
  name: string;
  address: string;
  bridge: Bridge;
  /** The root-side end of the veth pair. */
  veth: string;
  netnsPath: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function linkExists(name: string, netns?: string): Promise<boolean> {
  return (await run({ cmd: 'ip', args: ['link', 'show', 'dev', name], netns })).code === 0;
}

export function hostExists(name: string): boolean {
  return existsSync(netnsPath(name));
}

/**
 * Creates the bridge if missing, gives it the gateway address, brings it up, and adds the
 * root-side rules: hosts may forward to each other across it, and nothing from its subnet
 * is forwarded out of a non-keel link. Idempotent.
 */
export async function ensureBridge(spec: BridgeSpec): Promise<Bridge> {
  const b = bridgeOf(spec);
  if (!(await linkExists(b.name))) for (const c of createBridgeCommands(b)) await mustRun(c);
  for (const c of configureBridgeCommands(b)) await mustRun(c);
  await ensureRule('filter', bridgeForwardRule(b.name));
  await ensureRule('filter', egressGuardRule(b.name, b.subnet));
  return b;
}

/**
 * Adds an egress guard for another range routed through the bridge's hosts (their pod
 * CIDRs): forwarded packets from it may not leave through a non-keel link. Removed with
 * the bridge.
 */
export async function addEgressGuard(bridge: string, cidr: string): Promise<void> {
  await ensureRule('filter', egressGuardRule(assertLinkName('bridge', bridge), cidr));
}

/**
 * Lets hosts reach 127.0.0.1:targetPort on the root side at gateway:port (the local
 * registry, or a server that listens on loopback only): DNAT on the bridge, plus
 * route_localnet on it so the kernel routes to 127/8 from there. Removed with the bridge.
 */
export async function publishLoopbackPort(b: Bridge, port: number, targetPort = port): Promise<void> {
  await mustRun({ cmd: 'sysctl', args: ['-q', '-w', `net.ipv4.conf.${b.name}.route_localnet=1`] });
  await ensureRule('nat', publishLoopbackRule(b, port, targetPort));
}

/** Removes every rule made for the bridge (found by their comment) and the bridge itself. */
export async function removeBridge(name: string): Promise<{ rules: number; link: boolean }> {
  assertLinkName('bridge', name);
  let rules = 0;
  for (const table of ['filter', 'nat']) {
    const save = await run({ cmd: 'iptables-save', args: ['-t', table] });
    const cleanup = bridgeRulesCleanup(save.stdout, name);
    if (cleanup.rules === 0) continue;
    await mustRun({ cmd: 'iptables-restore', args: ['-w', '--noflush'] }, { input: cleanup.script });
    rules += cleanup.rules;
  }
  const link = await linkExists(name);
  if (link) await mustRun({ cmd: 'ip', args: ['link', 'del', 'dev', name] });
  return { rules, link };
}

/** Creates the host (namespace, veth pair on the bridge, address, lo up) if missing. Idempotent. */
export async function addHost(opts: { name: string; bridge: Bridge; address: string }): Promise<Host> {
  const { name, bridge, address } = opts;
  assertKeelName('host', name);
  checkHostAddress(bridge, address);
  if (!(await linkExists(bridge.name))) throw new Error(`bridge ${bridge.name} does not exist: ensureBridge first`);
  if (!hostExists(name)) for (const c of createNetnsCommands(name)) await mustRun(c);
  if (!(await linkExists(vethName(name)))) {
    // A leftover peer from an interrupted add would make the new peer's name clash.
    if (await linkExists(HOST_INTERFACE, name)) await mustRun({ cmd: 'ip', args: ['link', 'del', 'dev', HOST_INTERFACE], netns: name });
    for (const c of createVethCommands(name)) await mustRun(c);
  }
  for (const c of configureHostCommands(name, bridge, address)) await mustRun(c);
  return { name, address, bridge, veth: vethName(name), netnsPath: netnsPath(name) };
}

/** The network namespace inode of a path such as /proc/PID/ns/net or /var/run/netns/NAME. */
function netnsInode(path: string): number | undefined {
  try {
    if (path.startsWith('/proc/')) {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(path));
      return m ? Number(m[1]) : undefined;
    }
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** PIDs of every process whose network namespace is the host's (from /proc; no names involved). */
export function pidsInHost(name: string): number[] {
  const ino = netnsInode(netnsPath(name));
  if (ino === undefined) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (netnsInode(`/proc/${entry}/ns/net`) === ino) pids.push(Number(entry));
  }
  return pids;
}

function zombieOrGone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Kills every process in the host (SIGKILL, as a crashed machine would) and waits until
 * they are gone; answers their PIDs. Pods run in their own namespaces and are not among them.
 */
export async function killHost(name: string, timeoutMs = 10_000): Promise<number[]> {
  const pids = pidsInHost(name);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some((p) => !zombieOrGone(p)) && Date.now() < deadline) await sleep(20);
  return pids;
}

/**
 * Removes the host: its veth pair and namespace. Refuses while processes still run in it,
 * unless `kill` (then they are killed first). Idempotent.
 */
export async function removeHost(name: string, opts: { kill?: boolean } = {}): Promise<void> {
  assertKeelName('host', name);
  const running = pidsInHost(name).filter((p) => !zombieOrGone(p));
  if (running.length > 0) {
    if (!opts.kill) throw new Error(`host ${name} still runs PIDs ${running.join(', ')}: stop them or pass kill`);
    await killHost(name);
  }
  if (await linkExists(vethName(name))) await mustRun({ cmd: 'ip', args: ['link', 'del', 'dev', vethName(name)] });
  if (hostExists(name)) await mustRun({ cmd: 'ip', args: ['netns', 'del', name] });
}

/** Adds (or replaces) a route in a host, or on the root side through a keel-… link. */
export async function addRoute(r: RouteSpec): Promise<void> {
  await mustRun(addRouteCommand(r));
}

/** Removes a route; answers whether it was there. */
export async function removeRoute(r: RouteSpec): Promise<boolean> {
  return (await run(removeRouteCommand(r))).code === 0;
}

/** Runs a command inside the host (for checks such as ping); never throws. */
export function runInHost(host: string, cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run({ cmd, args, netns: assertKeelName('host', host) }, opts);
}

/** Writes a sysctl inside the host (e.g. net.ipv4.ip_forward for a node that routes pods). */
export async function hostSysctl(host: string, key: string, value: string): Promise<void> {
  if (!/^[a-z0-9_.-]+$/.test(key)) throw new Error(`not a sysctl key: ${key}`);
  // /proc/sys is per network namespace for net.*: write it from inside the host.
  await mustRun({ cmd: 'sysctl', args: ['-q', '-w', `${key}=${value}`], netns: host });
}

/**
 * Starts a daemon inside the host (nsenter --net), detached, logging to spec.logFile, its
 * PID recorded in spec.pidFile; stop it with stopInHost(pidFile).
 */
export function startInHost(host: string, spec: Omit<DaemonSpec, 'netns'>): Promise<RunningDaemon> {
  if (!hostExists(host)) throw new Error(`no host ${host}: addHost first`);
  return startDaemon({ ...spec, netns: host });
}

/** Stops a daemon started by startInHost, by its recorded PID (SIGTERM, then SIGKILL). */
export function stopInHost(pidFile: string, graceMs?: number): Promise<boolean> {
  return stopDaemon(pidFile, graceMs);
}
