// A control plane for the scheduler's integration tests: a real store on loopback (keel-store;
// Debian's etcd with KEEL_TEST_STORE=etcd), the built
// keel-apiserver and keel-scheduler as processes (REST for nothing here; the keel.v1 gRPC
// API for both the scheduler and the test's client). Everything lives in a keel-… temp
// folder and stops by recorded PID.
import { Client, GrpcTransport } from '@keel/client';
import { eventually as pollUntil, freeLoopbackPorts, httpAnswers, startDaemon, type RunningDaemon } from '@keel/process';
import { startEtcdCluster } from '@keel/tools-etcd';
import { startStoreCluster } from '@keel/tools-store';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');

export interface SchedulerReplica {
  metricsUrl: string;
  daemon: RunningDaemon;
}

export interface TestCluster {
  client: Client;
  grpcAddress: string;
  metricsUrl: string;
  work: string;
  /** Another keel-scheduler replica (with --leader-elect), stopped with the cluster. */
  startScheduler(name: string): Promise<SchedulerReplica>;
  /** Stops the replica started with the cluster (SIGTERM, by its recorded PID). */
  stopFirstScheduler(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<TestCluster> {
  for (const app of ['apps/apiserver', 'apps/scheduler']) execFileSync('node', ['tools/scripts/bundle.mjs', app], { cwd: root, stdio: 'ignore' });
  const work = mkdtempSync(join(tmpdir(), 'keel-scheduler-test-'));
  let etcd: { endpoints: string[]; stop(): Promise<void> } | undefined;
  const daemons: RunningDaemon[] = [];
  let client: Client | undefined;
  const stop = async () => {
    client?.close();
    for (const d of daemons.reverse()) await d.stop();
    await etcd?.stop();
    // KEEL_KEEP_WORK=1 keeps the logs and data for a look after a failure.
    if (!process.env['KEEL_KEEP_WORK']) rmSync(work, { recursive: true, force: true });
  };
  try {
    if (process.env['KEEL_TEST_STORE'] === 'etcd') {
      const cluster = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
      etcd = { endpoints: cluster.endpoints, stop: () => cluster.stop({ removeData: true }) };
    } else etcd = await startStoreCluster({ members: 1 });
    const [http, grpc, metrics] = (await freeLoopbackPorts(3)) as [number, number, number];
    daemons.push(
      await startDaemon({
        argv: ['node', join(root, 'dist/apps/apiserver/main.js'), '--etcd-servers', etcd.endpoints.join(','), '--insecure-port', String(http), '--grpc-port', String(grpc)],
        pidFile: join(work, 'apiserver.pid'),
        logFile: join(work, 'apiserver.log'),
        ready: () => httpAnswers(`http://127.0.0.1:${http}/healthz`),
      }),
    );
    const grpcAddress = `127.0.0.1:${grpc}`;
    const startScheduler = async (name: string, port?: number): Promise<SchedulerReplica> => {
      const p = port ?? (await freeLoopbackPorts(1))[0]!;
      const daemon = await startDaemon({
        argv: ['node', join(root, 'dist/apps/scheduler/main.js'), '--grpc-server', grpcAddress, '--secure-port', String(p), '--leader-elect'],
        pidFile: join(work, `${name}.pid`),
        logFile: join(work, `${name}.log`),
        ready: () => httpAnswers(`http://127.0.0.1:${p}/healthz`),
      });
      daemons.push(daemon);
      return { metricsUrl: `http://127.0.0.1:${p}/metrics`, daemon };
    };
    const first = await startScheduler('scheduler', metrics);
    client = new Client(new GrpcTransport({ address: grpcAddress, callTimeoutMs: 5000 }));
    const stopFirstScheduler = async () => {
      await first.daemon.stop();
      daemons.splice(daemons.indexOf(first.daemon), 1);
    };
    return { client, grpcAddress, metricsUrl: first.metricsUrl, work, startScheduler, stopFirstScheduler, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return pollUntil('the condition', check, { timeoutMs });
}
