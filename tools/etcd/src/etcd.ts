// A real etcd (Debian's etcd-server, 3.4) cluster on loopback, for compatibility tests and
// side-by-side benchmarks against keel-store: 1 or 3 members, each with its own data dir
// under one keel-… folder, started detached with recorded PIDs; members can be stopped,
// killed and restarted one by one for failure tests.
import { httpAnswers, killDaemon, runningDaemon, startDaemon, stopDaemon, freeLoopbackPorts } from '@keel/process';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  pidFile: string;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Client endpoints as `127.0.0.1:PORT`, for gRPC clients and `etcdctl --endpoints`. */
  endpoints: string[];
  /** SIGTERM a member and wait until it is gone. */
  stopMember(index: number): Promise<void>;
  /** SIGKILL a member, as a crash would. */
  killMember(index: number): Promise<void>;
  /** Start a stopped member again from its data dir. */
  startMember(index: number): Promise<void>;
  /** Stop every member; with `removeData`, delete the cluster folder too. */
  stop(opts?: { removeData?: boolean }): Promise<void>;
}

export interface EtcdClusterOptions {
  /** The cluster folder; its last path element must start with `keel-`. */
  dir: string;
  members?: 1 | 3 | 5;
  /** Extra flags for every member, e.g. `--quota-backend-bytes=...`. */
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

function memberArgs(m: EtcdMember, initialCluster: string, token: string, extra: string[]): string[] {
  return [
    'etcd',
    `--name=${m.name}`,
    `--data-dir=${m.dataDir}`,
    `--listen-client-urls=${m.clientUrl}`,
    `--advertise-client-urls=${m.clientUrl}`,
    `--listen-peer-urls=${m.peerUrl}`,
    `--initial-advertise-peer-urls=${m.peerUrl}`,
    `--initial-cluster=${initialCluster}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${token}`,
    '--logger=zap',
    '--log-level=warn',
    ...extra,
  ];
}

export async function startEtcdCluster(opts: EtcdClusterOptions): Promise<EtcdCluster> {
  const dir = resolve(opts.dir);
  if (!basename(dir).startsWith('keel-')) throw new Error(`etcd cluster dir must be named keel-…, got ${dir}`);
  const count = opts.members ?? 1;
  const ports = await freeLoopbackPorts(count * 2);
  const members: EtcdMember[] = Array.from({ length: count }, (_, i) => ({
    name: `keel-etcd-${i}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: join(dir, `member-${i}`),
    pidFile: join(dir, `member-${i}.pid`),
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const token = `keel-${basename(dir)}`;
  mkdirSync(dir, { recursive: true });

  const start = async (i: number) => {
    const m = members[i]!;
    // A member waits for its peers before /health says true, so readiness here is only
    // "the process serves HTTP"; the cluster's health is awaited below, once all run.
    await startDaemon({
      argv: memberArgs(m, initialCluster, token, opts.extraArgs ?? []) as [string, ...string[]],
      pidFile: m.pidFile,
      logFile: join(dir, `member-${i}.log`),
      ready: () => httpAnswers(`${m.clientUrl}/version`),
      readyTimeoutMs: opts.readyTimeoutMs ?? 20_000,
    });
  };
  const healthy = async (deadlineMs: number) => {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const states = await Promise.all(
        members.filter((m) => runningDaemon(m.pidFile)).map((m) => httpAnswers(`${m.clientUrl}/health`)),
      );
      if (states.length > 0 && states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`etcd cluster in ${dir} did not become healthy`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.clientUrl.replace('http://', '')),
    stopMember: async (i) => void (await stopDaemon(members[i]!.pidFile)),
    killMember: async (i) => void (await killDaemon(members[i]!.pidFile)),
    startMember: async (i) => {
      await start(i);
      await healthy(opts.readyTimeoutMs ?? 20_000);
    },
    stop: async (o) => {
      await Promise.all(members.map((m) => stopDaemon(m.pidFile)));
      if (o?.removeData) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((_, i) => start(i)));
    await healthy(opts.readyTimeoutMs ?? 20_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
