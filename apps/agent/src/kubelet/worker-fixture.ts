// For PodWorker unit tests: a fake clock, and the worker's dependencies around a given
// in-memory runtime and a FakeApi client, with the back-offs kubelet uses and no network
// wait. Test-only; nothing in the agent imports it.
import { Client, EventRecorder, FakeApi } from '@keel/client';
import { Backoff, CrashLoopBackoff, ImagePullBackoff } from './backoff';
import type { WorkerDeps } from './pod-worker';
import type { Runtime } from './runtime';

export interface FakeClock {
  now: () => number;
  advance: (ms: number) => number;
}

export function fakeClock(start = '2026-01-01T00:00:00Z'): FakeClock {
  let now = Date.parse(start);
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A FakeApi client, its event recorder, and deps for a worker on node n1 (host IP 10.0.0.1) whose volumes live under `rootDir`. */
export function workerDeps(cri: Runtime, clock: FakeClock, rootDir: string, cgroupParent: string): { client: Client; events: EventRecorder; deps: WorkerDeps } {
  const client = new Client(new FakeApi());
  const events = new EventRecorder({ client, component: 'kubelet' });
  const deps: WorkerDeps = {
    cri,
    client,
    events,
    settings: { nodeName: 'n1', rootDir, cgroupParent, clusterDNS: [], clusterDomain: 'cluster.local' },
    hostIP: () => '10.0.0.1',
    log: () => undefined,
    now: clock.now,
    crashBackoff: new Backoff(CrashLoopBackoff),
    pullBackoff: new Backoff(ImagePullBackoff),
    networkReady: async () => undefined,
  };
  return { client, events, deps };
}
