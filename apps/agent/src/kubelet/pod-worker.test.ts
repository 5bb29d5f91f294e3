// The pod worker against the in-memory HollowRuntime and FakeApi, on a fake clock: the
// restart and back-off sequence (first restart at once, then CrashLoopBackOff 10 s, 20 s),
// the status it writes, a Never pod that ends Failed, and deletion down to the final DELETE.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '@keel/api';
import { Client } from '@keel/client';
import { afterAll, describe, expect, it } from 'vitest';
import { HollowRuntime } from './hollow';
import { fakeClock, workerDeps } from './worker-fixture';
import { PodWorker } from './pod-worker';

const root = mkdtempSync(join(tmpdir(), 'keel-worker-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setup(exitCode: number | undefined, restartPolicy: 'Always' | 'Never', pullable = true) {
  const clock = fakeClock();
  const runtime = new HollowRuntime({ now: clock.now, behaviour: () => (exitCode === undefined ? {} : { exitAfterMs: 0, exitCode }), pullable: () => pullable });
  const { client, deps } = workerDeps(runtime, clock, root, '/keel-worker-test');
  return { clock, runtime, client, deps };
}

async function createPod(client: Client, restartPolicy: 'Always' | 'Never'): Promise<Pod> {
  return client.pods('default').create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'uid-1' },
    spec: { nodeName: 'n1', restartPolicy, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'keel/crasher:1.0' }] },
  });
}

describe('PodWorker', () => {
  it('restarts a crashing container at once, then backs off 10 s, then 20 s (CrashLoopBackOff)', async () => {
    const { clock, runtime, client, deps } = setup(2, 'Always');
    const worker = new PodWorker((await createPod(client, 'Always')).metadata.uid!, deps);
    const sync = async () => {
      worker.pod = await client.pods('default').get('p');
      return worker.sync();
    };
    await sync(); // sandbox and first start; it exits at once
    clock.advance(1_000);
    await sync(); // first restart: no back-off yet
    let s = (await client.pods('default').get('p')).status!.containerStatuses![0]!;
    expect(s.restartCount).toBe(1);
    clock.advance(1_000);
    await sync();
    s = (await client.pods('default').get('p')).status!.containerStatuses![0]!;
    expect(s.state!.waiting).toEqual({ reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=c pod=p_default(${worker.uid})` });
    expect(s.lastState!.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    clock.advance(9_000); // 10 s after the exit
    await sync();
    expect((await client.pods('default').get('p')).status!.containerStatuses![0]!.restartCount).toBe(2);
    clock.advance(1_000);
    await sync();
    expect((await client.pods('default').get('p')).status!.containerStatuses![0]!.state!.waiting!.message).toMatch(/^back-off 20s/);
    // Only the newest two attempts are kept.
    expect((await runtime.listContainers()).length).toBeLessThanOrEqual(3);
    expect((await client.pods('default').get('p')).status!.phase).toBe('Running');
  });

  it('ends a Never pod Failed, then frees its sandbox', async () => {
    const { clock, runtime, client, deps } = setup(1, 'Never');
    const worker = new PodWorker((await createPod(client, 'Never')).metadata.uid!, deps);
    for (let i = 0; i < 3; i++) {
      worker.pod = await client.pods('default').get('p');
      await worker.sync();
      clock.advance(1_000);
    }
    const p = await client.pods('default').get('p');
    expect(p.status!.phase).toBe('Failed');
    expect(p.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 1 });
    expect((await runtime.listPodSandbox()).map((s) => s.state)).toEqual(['SANDBOX_NOTREADY']);
  });

  it('reports ErrImagePull and then ImagePullBackOff without creating the container', async () => {
    const { clock, runtime, client, deps } = setup(undefined, 'Always', false);
    const worker = new PodWorker((await createPod(client, 'Always')).metadata.uid!, deps);
    worker.pod = await client.pods('default').get('p');
    await worker.sync();
    expect((await client.pods('default').get('p')).status!.containerStatuses![0]!.state!.waiting!.reason).toBe('ErrImagePull');
    clock.advance(1_000);
    worker.pod = await client.pods('default').get('p');
    await worker.sync();
    expect((await client.pods('default').get('p')).status!.containerStatuses![0]!.state!.waiting!.reason).toBe('ImagePullBackOff');
    expect(await runtime.listContainers()).toEqual([]);
  });

  it('on deletion stops everything, removes the sandbox and sends the final DELETE', async () => {
    const { runtime, client, deps } = setup(undefined, 'Always');
    const worker = new PodWorker((await createPod(client, 'Always')).metadata.uid!, deps);
    worker.pod = await client.pods('default').get('p');
    await worker.sync();
    expect((await client.pods('default').get('p')).status!.phase).toBe('Running');
    worker.pod = { ...worker.pod, metadata: { ...worker.pod.metadata, deletionTimestamp: '2026-01-01T00:00:05Z', deletionGracePeriodSeconds: 1 } };
    await worker.sync();
    expect(await runtime.listPodSandbox()).toEqual([]);
    expect(await runtime.listContainers()).toEqual([]);
    await expect(client.pods('default').get('p')).rejects.toMatchObject({ reason: 'NotFound' });
    worker.pod = undefined;
    expect(await worker.sync()).toBeUndefined();
    expect(worker.finished).toBe(true);
  });
});
