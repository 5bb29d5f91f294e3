// A control plane for the integration tests: a real store — keel-store (from
// @keel/tools-store, the default) or Debian's etcd (from @keel/tools-etcd; KEEL_TEST_STORE=etcd)
// — the built keel-apiserver as its own process (PID recorded, stopped by that PID), and this
// app's ControllerManager in the test process on a @keel/client gRPC connection. No agent
// runs, so pods never start: `kubelet` below stands in for one by writing pod status
// through the status subresource, as a kubelet would.
import { formatTime, type Pod, type PodStatus } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { freeLoopbackPorts, httpAnswers, startDaemon, type RunningDaemon } from '@keel/process';
import { startEtcdCluster } from '@keel/tools-etcd';
import { startStoreCluster } from '@keel/tools-store';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ControllerManager } from '../src/manager';
import type { ControllerConfig } from '../src/runtime/controller';
import { jsonLogger, silentLogger } from '../src/runtime/log';
import { selectControllers } from '../src/controllers';

const root = resolve(import.meta.dirname, '../../..');

export interface ControlPlane {
  client: Client;
  grpcAddress: string;
  restUrl: string;
  /** A keel-… folder of this run, removed by stop(). */
  work: string;
  stop(): Promise<void>;
}

export interface TestCluster extends ControlPlane {
  manager: ControllerManager;
}

/** Which etcd v3 server the apiserver stores objects in. */
export type TestStore = 'etcd' | 'keel-store';

/** The store the tests run on: keel-store unless KEEL_TEST_STORE says etcd. */
export function testStore(): TestStore {
  return process.env['KEEL_TEST_STORE'] === 'etcd' ? 'etcd' : 'keel-store';
}

/** A store and keel-apiserver (built fresh), and a gRPC client of it. */
export async function startControlPlane(opts: { store?: TestStore } = {}): Promise<ControlPlane & { store: TestStore }> {
  const store = opts.store ?? testStore();
  const work = mkdtempSync(join(tmpdir(), 'keel-cm-test-'));
  let etcd: { endpoints: string[]; stop(): Promise<void> } | undefined;
  let apiserver: RunningDaemon | undefined;
  let client: Client | undefined;
  const stop = async () => {
    client?.close();
    await apiserver?.stop(5000);
    await etcd?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    execFileSync(process.execPath, [join(root, 'tools/scripts/bundle.mjs'), 'apps/apiserver'], { cwd: root, stdio: 'pipe' });
    if (store === 'keel-store') etcd = await startStoreCluster({ members: 1 });
    else {
      const cluster = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
      etcd = { endpoints: cluster.endpoints, stop: () => cluster.stop({ removeData: true }) };
    }
    const [port, grpcPort] = await freeLoopbackPorts(2);
    const restUrl = `http://127.0.0.1:${port}`;
    apiserver = await startDaemon({
      argv: [process.execPath, join(root, 'dist/apps/apiserver/main.js'), '--etcd-servers', etcd.endpoints.join(','), '--insecure-port', String(port), '--grpc-port', String(grpcPort)],
      pidFile: join(work, 'keel-apiserver', 'pid'),
      logFile: join(work, 'keel-apiserver', 'log'),
      ready: () => httpAnswers(`${restUrl}/healthz`),
      readyTimeoutMs: 30_000,
    });
    const grpcAddress = `127.0.0.1:${grpcPort}`;
    client = new Client(new GrpcTransport({ address: grpcAddress, callTimeoutMs: 10_000 }));
    // The apiserver makes the system namespaces; `default` is the one tests use.
    await waitFor(async () => (await client!.namespaces().get('default').catch(() => undefined)) !== undefined, 20_000);
    return { client, grpcAddress, restUrl, work, stop, store };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The control plane with this app's ControllerManager running in the test process. */
export async function startTestCluster(config: ControllerConfig = {}, store?: TestStore): Promise<TestCluster> {
  const plane = await startControlPlane(store ? { store } : {});
  try {
    const log = process.env.KEEL_TEST_LOGS ? jsonLogger() : silentLogger;
    const manager = new ControllerManager({ client: plane.client, controllers: selectControllers('*'), config: { apiserverUrl: plane.restUrl, ...config }, log, workers: 3 });
    await manager.start();
    return {
      ...plane,
      manager,
      stop: async () => {
        await manager.stop();
        await plane.stop();
      },
    };
  } catch (err) {
    await plane.stop();
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` answers true (or a value), or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | false | undefined> | T | false | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== false && v !== undefined) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(100);
  }
}

/** Reads the object fresh and writes `change(object)`, again on a Conflict (controllers write too). */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= 10 || (err as { reason?: string }).reason !== 'Conflict') throw err;
    }
  }
}

let ipCounter = 10;

/**
 * The kubelet's part, done by the test: the pod runs (phase Running, a pod IP) and its Ready
 * condition is `ready`, or it finished (`Succeeded` / `Failed`).
 */
export async function kubelet(client: Client, pod: Pod, state: { ready?: boolean; phase?: 'Succeeded' | 'Failed' } = { ready: true }): Promise<Pod> {
  const now = formatTime(Date.now());
  const ip = pod.status?.podIP ?? `10.244.0.${ipCounter++ % 250}`;
  const ready = state.phase ? false : (state.ready ?? true);
  const status: PodStatus = {
    ...pod.status,
    phase: state.phase ?? 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    startTime: pod.status?.startTime ?? now,
    conditions: [
      { type: 'PodScheduled', status: 'True' as const, lastTransitionTime: now },
      { type: 'Ready', status: ready ? ('True' as const) : ('False' as const), lastTransitionTime: now },
    ],
  };
  return client.pods(pod.metadata.namespace).updateStatus({ ...pod, status });
}
