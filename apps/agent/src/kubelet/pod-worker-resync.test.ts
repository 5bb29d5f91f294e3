// How soon a pod worker wants to run again, and what lets it wait: a settled pod resyncs
// late because the Kubelet's relist compares the runtime with the fingerprint the worker
// last saw; a pod still getting somewhere resyncs every second; the informer's echo of the
// worker's own status write is told apart from any other change. HollowRuntime, FakeApi,
// fake clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '@keel/api';
import { afterAll, describe, expect, it } from 'vitest';
import { HollowRuntime, type HollowBehaviour } from './hollow';
import { fakeClock, workerDeps } from './worker-fixture';
import { PodWorker, canonicalJson, runtimeFingerprint } from './pod-worker';

const root = mkdtempSync(join(tmpdir(), 'keel-resync-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function setup(name: string, behaviour: HollowBehaviour = {}) {
  const clock = fakeClock();
  const runtime = new HollowRuntime({ now: clock.now, behaviour: () => behaviour });
  const { client, deps } = workerDeps(runtime, clock, root, '/keel-resync-test');
  // The FakeApi gives the pod its own uid.
  const created = await client.pods('default').create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'img:1' }] } });
  const uid = created.metadata.uid!;
  const worker = new PodWorker(uid, deps);
  const sync = async () => {
    worker.pod = await client.pods('default').get(name);
    return worker.sync();
  };
  const fingerprint = async () => {
    const selector = { label_selector: { 'io.kubernetes.pod.uid': uid } };
    return runtimeFingerprint(await runtime.listPodSandbox(selector), await runtime.listContainers(selector));
  };
  return { clock, runtime, client, worker, sync, fingerprint };
}

describe('pod worker resync', () => {
  it('a settled pod resyncs late, and the runtime fingerprint it saw changes when its container exits', async () => {
    const { clock, worker, sync, fingerprint } = await setup('settled', { exitAfterMs: 5_000, exitCode: 1 });
    expect(await sync()).toBe(10_000);
    expect(worker.seen?.fingerprint).toBe(await fingerprint());
    clock.advance(6_000);
    expect(await fingerprint()).not.toBe(worker.seen?.fingerprint);
    // The exit is seen; restarted at once (no back-off yet), and running again: settled.
    expect(await sync()).toBe(10_000);
    clock.advance(6_000);
    // Exited again: now in CrashLoopBackOff, waiting, so it looks again every second.
    expect(await sync()).toBe(1_000);
  });

  it('tells the echo of its own status write from any other change', async () => {
    const { client, worker, sync } = await setup('echo');
    const before = await client.pods('default').get('echo');
    await sync();
    const after = await client.pods('default').get('echo');
    expect(after.status?.phase).toBe('Running');
    expect(worker.isOwnStatusEcho(before, after)).toBe(true);
    const labelled: Pod = { ...after, metadata: { ...after.metadata, labels: { a: 'b' } } };
    expect(worker.isOwnStatusEcho(before, labelled)).toBe(false);
    const deleting: Pod = { ...after, metadata: { ...after.metadata, deletionTimestamp: '2026-01-01T00:00:10Z' } };
    expect(worker.isOwnStatusEcho(before, deleting)).toBe(false);
    const otherStatus: Pod = { ...after, status: { ...after.status, phase: 'Failed' } };
    expect(worker.isOwnStatusEcho(before, otherStatus)).toBe(false);
    expect(worker.isOwnStatusEcho(undefined, after)).toBe(false);
  });

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: undefined } })).toBe(canonicalJson({ a: { d: [{ x: 2, y: 1 }] }, b: 1 }));
  });
});
