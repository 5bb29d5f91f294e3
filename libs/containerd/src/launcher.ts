// Starting, stopping and cleaning up one node's containerd. Start writes the node's
// files (config.ts), records what the host looked like before (was the bridge there, was
// ip_forward on, which portmap chains existed), adds the egress guard, and spawns
// containerd — on the host, or in a node's network namespace with `nsenter --net` — then
// waits for its CRI to answer. Stop signals only the PID recorded at start, and only if
// that PID still runs containerd with this node's config. Teardown removes what
// containerd leaves behind: sandboxes and containers through CRI first (so CNI DEL runs),
// then leftover shims and runc containers of this node, mounts under the node folder,
// pod cgroups, this network's portmap rules, the bridge, and restores ip_forward.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freeLoopbackPort } from '@keel/process';
import { dirname } from 'node:path';
import { CriClient } from '@keel/cri';
import { removeCgroup } from './cgroups';
import { cidrsOverlap, cniNetworkName, nodePaths, renderNodeFiles, type NodePaths, type NodeRuntimeSettings } from './config';
import {
  addEgressGuard,
  deleteBridge,
  existingHostportChains,
  removeCniResultCache,
  removeEgressGuard,
  removeIdleHostportChains,
  removePortmapRules,
} from './network';
import { alive, cmdlineOf, ipv4Routes, linkExists, linksOfType, mountsUnder, pidsWhere, readSysctl, run, sleep, writeSysctl } from './system';

export interface StartOptions {
  /** The node's folder, named keel-…; created if missing. */
  dir: string;
  sandboxImage: string;
  /** Default 10.244.0.0/24; must not overlap a route on this machine that is not ours. */
  podCidr?: string;
  /** Default keel-cni0. */
  bridge?: string;
  /** The stream server's address: the node IP (127.0.0.1 on the host). */
  streamAddress?: string;
  /** Default: a free port on the host; 10010 inside a netns. */
  streamPort?: number;
  /** Registry mirrors; default 127.0.0.1:5000 served at http://127.0.0.1:5000. */
  registries?: { host: string; endpoint: string }[];
  /** Run inside /var/run/netns/<netns> instead of the host network. */
  netns?: string;
  /** Drop forwarded pod traffic that would leave through a non-keel link (default: on the host only). */
  egressGuard?: boolean;
  /** Replace the CNI conflist (tests use this to break CNI on purpose). */
  cniConflist?: string;
  /** How long to wait for the CRI to answer (20 s). */
  readyTimeoutMs?: number;
  logLevel?: NodeRuntimeSettings['logLevel'];
}

/** What start recorded in node.json, for stop and teardown in this or a later process. */
export interface NodeRecord {
  pid: number;
  netns?: string;
  network: string;
  bridge: string;
  podCidr: string;
  cgroupParent: string;
  streamAddress: string;
  streamPort: number;
  bridgeExisted: boolean;
  ipForwardBefore: string;
  hostportChainsBefore: string[];
  egressGuard: boolean;
}

export interface RunningContainerd {
  pid: number;
  /** unix:///…/containerd.sock, for CriClient. */
  endpoint: string;
  paths: NodePaths;
  record: NodeRecord;
  /**
   * The cgroup parent to give pods (`LinuxPodSandboxConfig.cgroup_parent` + a pod part),
   * so teardown finds every pod cgroup under one directory.
   */
  cgroupParent: string;
  /** Tears everything down (see teardownNode); `removeDir` also deletes the folder. */
  stop(opts?: { removeDir?: boolean }): Promise<TeardownReport>;
}

export interface TeardownReport {
  removed: string[];
  problems: string[];
}

/** True when `pid` is containerd running from this node's config (guards against a recycled PID). */
function isOurContainerd(pid: number, paths: NodePaths): boolean {
  const argv = cmdlineOf(pid);
  return !!argv && argv.some((a) => a.endsWith('containerd')) && argv.includes(paths.config);
}

export function readRecord(dir: string): NodeRecord | undefined {
  const paths = nodePaths(dir);
  try {
    return JSON.parse(readFileSync(paths.recordFile, 'utf8')) as NodeRecord;
  } catch {
    return undefined;
  }
}

/** The node's containerd PID if it is running. */
export function runningPid(dir: string): number | undefined {
  const paths = nodePaths(dir);
  const record = readRecord(dir);
  const pid = record?.pid ?? Number(existsSync(paths.pidFile) ? readFileSync(paths.pidFile, 'utf8').trim() : NaN);
  return Number.isInteger(pid) && isOurContainerd(pid, paths) ? pid : undefined;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startContainerd(opts: StartOptions): Promise<RunningContainerd> {
  const paths = nodePaths(opts.dir);
  if (runningPid(paths.dir) !== undefined) throw new Error(`containerd for ${paths.dir} is already running`);
  const netns = opts.netns;
  if (netns && !existsSync(`/var/run/netns/${netns}`)) throw new Error(`no network namespace /var/run/netns/${netns}`);
  const podCidr = opts.podCidr ?? '10.244.0.0/24';
  const bridge = opts.bridge ?? 'keel-cni0';
  const streamAddress = opts.streamAddress ?? '127.0.0.1';
  const streamPort = opts.streamPort ?? (netns ? 10010 : await freeLoopbackPort(streamAddress));
  const settings: NodeRuntimeSettings = {
    dir: paths.dir,
    sandboxImage: opts.sandboxImage,
    podCidr,
    bridge,
    streamAddress,
    streamPort,
    registries: opts.registries ?? [{ host: '127.0.0.1:5000', endpoint: 'http://127.0.0.1:5000' }],
    logLevel: opts.logLevel,
  };
  const network = cniNetworkName(paths.dir);

  // A pod CIDR that overlaps someone else's route would steal or leak their traffic.
  const bridgeExisted = await linkExists(bridge, netns);
  for (const route of await ipv4Routes(netns)) {
    if (route.dst === '0.0.0.0/0' || route.dev === bridge) continue;
    if (cidrsOverlap(route.dst, podCidr)) {
      throw new Error(`pod CIDR ${podCidr} overlaps the route ${route.dst} on ${route.dev || '?'}: pick another`);
    }
  }

  for (const dir of [paths.root, paths.state, paths.runcRoot, paths.cniConfDir, paths.ipamDataDir]) mkdirSync(dir, { recursive: true });
  for (const [file, content] of renderNodeFiles(settings)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, file === paths.cniConflist && opts.cniConflist !== undefined ? opts.cniConflist : content);
  }

  const egressGuard = opts.egressGuard ?? !netns;
  const record: NodeRecord = {
    pid: 0,
    netns,
    network,
    bridge,
    podCidr,
    cgroupParent: `/${network}`,
    streamAddress,
    streamPort,
    bridgeExisted,
    ipForwardBefore: await readSysctl('net.ipv4.ip_forward', netns),
    hostportChainsBefore: await existingHostportChains(netns),
    egressGuard,
  };
  if (egressGuard) await addEgressGuard(network, podCidr, netns);

  const log = openSync(paths.logFile, 'a');
  const [cmd, args] = netns
    ? ['nsenter', [`--net=/var/run/netns/${netns}`, 'containerd', '-c', paths.config]]
    : ['containerd', ['-c', paths.config]];
  // Detached in its own process group, so it outlives a CLI that started it and a
  // Ctrl-C in the caller's terminal does not reach it; stopped only by its PID.
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const pid = child.pid;
  if (!pid) throw new Error(`cannot start containerd: ${tail(paths.logFile)}`);
  child.unref();
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  record.pid = pid;
  writeFileSync(paths.pidFile, `${pid}\n`);
  writeFileSync(paths.recordFile, `${JSON.stringify(record, null, 2)}\n`);

  const endpoint = `unix://${paths.socket}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  const client = new CriClient(endpoint, { timeoutMs: 2_000 });
  try {
    for (;;) {
      if (exited !== undefined) {
        throw new Error(`containerd exited (${exited}) during start:\n${tail(paths.logFile)}`);
      }
      if (existsSync(paths.socket)) {
        try {
          await client.version();
          break;
        } catch {
          // not serving yet
        }
      }
      if (Date.now() > deadline) throw new Error(`containerd did not answer on ${endpoint} in time:\n${tail(paths.logFile)}`);
      await sleep(100);
    }
  } catch (err) {
    await teardownNode(paths.dir);
    throw err;
  } finally {
    client.close();
  }

  return {
    pid,
    endpoint,
    paths,
    record,
    cgroupParent: record.cgroupParent,
    stop: (o) => teardownNode(paths.dir, o),
  };
}

/** Stops the node's containerd by its recorded PID: SIGTERM, then SIGKILL after the grace. */
export async function stopContainerd(dir: string, graceMs = 10_000): Promise<boolean> {
  const paths = nodePaths(dir);
  const pid = runningPid(paths.dir);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && isOurContainerd(pid, paths) && Date.now() < deadline) await sleep(50);
  if (alive(pid) && isOurContainerd(pid, paths)) {
    process.kill(pid, 'SIGKILL');
    while (alive(pid) && isOurContainerd(pid, paths)) await sleep(20);
  }
  return true;
}

/** Removes every sandbox (and so every container) through CRI, while containerd runs. */
async function removeAllThroughCri(endpoint: string, report: TeardownReport): Promise<string[]> {
  const client = new CriClient(endpoint, { timeoutMs: 15_000 });
  const ids: string[] = [];
  try {
    const containers = await client.listContainers();
    ids.push(...containers.map((c) => c.id));
    const sandboxes = await client.listPodSandbox();
    ids.push(...sandboxes.map((s) => s.id));
    await Promise.all(
      sandboxes.map(async (s) => {
        try {
          await client.stopPodSandbox(s.id);
          await client.removePodSandbox(s.id);
          report.removed.push(`sandbox ${s.id.slice(0, 12)}`);
        } catch (err) {
          report.problems.push(`sandbox ${s.id.slice(0, 12)}: ${(err as Error).message}`);
        }
      }),
    );
    for (const c of await client.listContainers()) {
      try {
        await client.removeContainer(c.id);
      } catch (err) {
        report.problems.push(`container ${c.id.slice(0, 12)}: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    report.problems.push(`CRI teardown: ${(err as Error).message}`);
  } finally {
    client.close();
  }
  return ids;
}

/**
 * Tears a node down completely, whether or not its containerd still runs: CRI removal,
 * stop by PID, leftover shims and runc containers, mounts, cgroups, CNI rules, bridge,
 * ip_forward. Never throws for what it could not remove; it reports it.
 */
export async function teardownNode(dir: string, opts: { removeDir?: boolean } = {}): Promise<TeardownReport> {
  const paths = nodePaths(dir);
  const record = readRecord(paths.dir);
  const report: TeardownReport = { removed: [], problems: [] };
  const netns = record?.netns;
  const knownIds: string[] = [];

  if (runningPid(paths.dir) !== undefined && existsSync(paths.socket)) {
    knownIds.push(...(await removeAllThroughCri(`unix://${paths.socket}`, report)));
  }
  if (await stopContainerd(paths.dir)) report.removed.push('containerd');

  // Shims of this node name its socket in their command line; runc state is under our root.
  const shims = pidsWhere((argv) => argv.some((a) => a.includes('containerd-shim')) && argv.includes(paths.socket));
  const runcRoot = `${paths.runcRoot}/k8s.io`;
  if (existsSync(runcRoot)) {
    const list = await run('runc', ['--root', runcRoot, 'list', '-q']);
    for (const id of list.stdout.split('\n').filter(Boolean)) {
      knownIds.push(id);
      await run('runc', ['--root', runcRoot, 'kill', id, 'KILL']);
      await run('runc', ['--root', runcRoot, 'delete', '--force', id]);
      report.removed.push(`runc container ${id.slice(0, 12)}`);
    }
  }
  for (const pid of shims) {
    try {
      process.kill(pid, 'SIGKILL');
      report.removed.push(`shim ${pid}`);
    } catch {
      // already gone
    }
  }
  if (shims.length) await sleep(100);

  for (const mount of mountsUnder(paths.dir)) {
    const res = await run('umount', ['-l', mount]);
    if (res.code === 0) report.removed.push(`mount ${mount}`);
    else report.problems.push(`umount ${mount}: ${res.stderr.trim()}`);
  }

  if (record) {
    const cg = removeCgroup(record.cgroupParent);
    if (cg.removed) report.removed.push(`cgroup ${record.cgroupParent} (${cg.removed} hierarchies)`);
    if (cg.busy.length) report.problems.push(`busy cgroups: ${cg.busy.join(', ')}`);
  }
  // Pods started without a cgroup parent land in /k8s.io/<id>.
  for (const id of new Set(knownIds)) removeCgroup(`/k8s.io/${id}`);

  if (record) {
    try {
      report.removed.push(...(await removePortmapRules(record.network, netns)));
      report.removed.push(...(await removeIdleHostportChains(record.hostportChainsBefore, netns)));
    } catch (err) {
      report.problems.push((err as Error).message);
    }
    if (record.egressGuard && (await removeEgressGuard(record.network, record.podCidr, netns))) report.removed.push('egress guard');
    report.removed.push(...removeCniResultCache(record.network).map((f) => `cni cache ${f}`));
    if (!record.bridgeExisted && (await deleteBridge(record.bridge, netns))) report.removed.push(`bridge ${record.bridge}`);
    // The bridge plugin turned forwarding on; turn it back off once no keel bridge needs it.
    if (record.ipForwardBefore === '0') {
      const bridges = (await linksOfType('bridge', netns)).filter((b) => b.startsWith('keel-'));
      if (bridges.length === 0) {
        await writeSysctl('net.ipv4.ip_forward', '0', netns);
        report.removed.push('ip_forward restored to 0');
      }
    }
  }

  rmSync(paths.pidFile, { force: true });
  rmSync(paths.recordFile, { force: true });
  if (opts.removeDir) {
    try {
      rmSync(paths.dir, { recursive: true, force: true });
    } catch (err) {
      report.problems.push(`remove ${paths.dir}: ${(err as Error).message}`);
    }
  }
  return report;
}
