// The pod worker's lifecycle features on the in-memory HollowRuntime and FakeApi, on a fake
// clock: postStart hooks (a failing one kills the container: FailedPostStartHook), the
// termination message file, and sidecars (init containers with restartPolicy Always).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from '@keel/api';
import { Client, EventRecorder } from '@keel/client';
import type { ContainerConfig, ExecSyncResponse__Output } from '@keel/cri';
import { afterAll, describe, expect, it } from 'vitest';
import { HollowRuntime, type HollowBehaviour } from './hollow';
import { fakeClock, workerDeps } from './worker-fixture';
import { PodWorker } from './pod-worker';
import { terminationMessageFile } from './termination-message';
import { podDir } from './volumes';

const root = mkdtempSync(join(tmpdir(), 'keel-lifecycle-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** HollowRuntime whose exec fails for commands starting with `false`, and which records starts and stops by container name. */
class ScriptedRuntime extends HollowRuntime {
  readonly log: string[] = [];
  private readonly names = new Map<string, string>();
  override async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const id = await super.createContainer(sandboxId, config);
    this.names.set(id, config.metadata?.name ?? '');
    return id;
  }
  override async startContainer(id: string): Promise<void> {
    await super.startContainer(id);
    this.log.push(`start ${this.names.get(id)}`);
  }
  override async stopContainer(id: string): Promise<void> {
    this.log.push(`stop ${this.names.get(id)}`);
    await super.stopContainer(id);
  }
  override async execSync(id: string, cmd?: string[]): Promise<ExecSyncResponse__Output> {
    const res = await super.execSync(id);
    return cmd?.[0] === 'false' ? { ...res, stderr: Buffer.from('hook says no'), exit_code: 1 } : res;
  }
}

function setup(behaviour: (name: string) => HollowBehaviour = () => ({})) {
  const clock = fakeClock();
  const runtime = new ScriptedRuntime({ now: clock.now, behaviour: (config) => behaviour(config.metadata?.name ?? '') });
  const { client, events, deps } = workerDeps(runtime, clock, root, '/keel-lifecycle-test');
  return { clock, runtime, client, events, deps };
}

async function start(client: Client, deps: ReturnType<typeof setup>['deps'], name: string, spec: Partial<NonNullable<Pod['spec']>> & { containers: Container[] }) {
  const pod = await client.pods('default').create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { nodeName: 'n1', terminationGracePeriodSeconds: 1, ...spec } });
  const worker = new PodWorker(pod.metadata.uid!, deps);
  const sync = async () => {
    worker.pod = await client.pods('default').get(name);
    await worker.sync();
    return client.pods('default').get(name);
  };
  return { worker, sync };
}

const reasons = async (client: Client, events: EventRecorder) => {
  await events.flush();
  return (await client.events('default').list()).items.map((e) => `${e.reason}: ${e.message}`);
};

describe('postStart hooks', () => {
  it('runs an exec postStart hook after the start; a failing one kills the container (FailedPostStartHook) and it restarts', async () => {
    const { clock, runtime, client, events, deps } = setup();
    const { sync } = await start(client, deps, 'hooked', { containers: [{ name: 'ok', image: 'img:1', lifecycle: { postStart: { exec: { command: ['true'] } } } }, { name: 'bad', image: 'img:1', lifecycle: { postStart: { exec: { command: ['false'] } } } }] });
    let p = await sync();
    expect(runtime.log).toEqual(expect.arrayContaining(['start ok', 'start bad', 'stop bad']));
    expect(runtime.log).not.toContain('stop ok');
    const bad = p.status!.containerStatuses!.find((s) => s.name === 'bad')!;
    expect(bad.state!.waiting).toMatchObject({ reason: 'PostStartHookError' });
    expect(bad.state!.waiting!.message).toMatch(/^Exec lifecycle hook \(\["false"\]\) for Container "bad" in Pod "hooked_default\([\w-]+\)" failed - error: exit code 1: hook says no$/);
    expect(p.status!.containerStatuses!.find((s) => s.name === 'ok')!.state!.running).toBeDefined();
    expect(await reasons(client, events)).toEqual(expect.arrayContaining([expect.stringMatching(/^FailedPostStartHook: Exec lifecycle hook/)]));
    clock.advance(1_000);
    p = await sync();
    // Restarted at once (the first restart has no back-off), and killed again by its hook.
    expect(p.status!.containerStatuses!.find((s) => s.name === 'bad')!.restartCount).toBe(1);
    expect(runtime.log.filter((l) => l === 'stop bad')).toHaveLength(2);
  });

  it('runs an httpGet postStart hook: 2xx keeps the container, 500 kills it', async () => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(req.url === '/ok' ? 204 : 500).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    try {
      const { runtime, client, events, deps } = setup();
      const hook = (path: string) => ({ postStart: { httpGet: { host: '127.0.0.1', port, path } } });
      const { sync } = await start(client, deps, 'http-hooks', { containers: [{ name: 'ok', image: 'img:1', lifecycle: hook('/ok') }, { name: 'bad', image: 'img:1', lifecycle: hook('/fail') }] });
      const p = await sync();
      expect(paths.sort()).toEqual(['/fail', '/ok']);
      expect(runtime.log).toContain('stop bad');
      expect(runtime.log).not.toContain('stop ok');
      expect(p.status!.containerStatuses!.find((s) => s.name === 'bad')!.state!.waiting!.message).toMatch(/^HTTP lifecycle hook \(\/fail\) for Container "bad" .* failed - error: HTTP probe failed with statuscode: 500$/);
      expect(await reasons(client, events)).toEqual(expect.arrayContaining([expect.stringMatching(/^FailedPostStartHook: HTTP lifecycle hook/)]));
    } finally {
      server.close();
    }
  });

  it('a failed hook under restartPolicy Never ends the container (terminated), not waiting', async () => {
    const { client, deps } = setup();
    const { sync } = await start(client, deps, 'never', { restartPolicy: 'Never', containers: [{ name: 'bad', image: 'img:1', lifecycle: { postStart: { exec: { command: ['false'] } } } }] });
    await sync();
    const p = await sync();
    expect(p.status!.containerStatuses![0]!.state!.terminated).toBeDefined();
    expect(p.status!.phase).toBe('Failed');
  });
});

describe('termination messages', () => {
  it("puts what the container wrote to its terminationMessagePath into state.terminated.message, then into lastState's", async () => {
    const { clock, runtime, client, deps } = setup();
    const c: Container = { name: 'main', image: 'img:1', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
    const { worker, sync } = await start(client, deps, 'msg', { restartPolicy: 'Always', containers: [c] });
    await sync();
    writeFileSync(terminationMessageFile(podDir(root, worker.uid), 'main', 0), 'disk full\n');
    runtime.exit((await runtime.listContainers())[0]!.id, 3);
    clock.advance(1_000);
    let p = await sync(); // sees the exit and restarts it at once
    expect(p.status!.containerStatuses![0]!.lastState!.terminated).toMatchObject({ exitCode: 3, message: 'disk full\n' });
    p = await sync();
    expect(p.status!.containerStatuses![0]!.state!.running).toBeDefined();
  });
});

describe('sidecars (init containers with restartPolicy Always)', () => {
  it('start in order before the next init container, keep running, restart on exit, do not hold the pod back, and stop after the main containers', async () => {
    const exits = new Map<string, HollowBehaviour>([['setup', { exitAfterMs: 0, exitCode: 0 }], ['main', { exitAfterMs: 3_000, exitCode: 0 }]]);
    const { clock, runtime, client, deps } = setup((name) => exits.get(name) ?? {});
    const { sync } = await start(client, deps, 'side', {
      restartPolicy: 'Never',
      initContainers: [
        { name: 'proxy', image: 'img:1', restartPolicy: 'Always' },
        { name: 'setup', image: 'img:1' },
        { name: 'logger', image: 'img:1', restartPolicy: 'Always' },
      ],
      containers: [{ name: 'main', image: 'img:1' }],
    });
    // One start per sync, in order: the next init container only once the sidecar before it has started.
    let p = await sync();
    expect(runtime.log).toEqual(['start proxy']);
    expect(p.status!.conditions!.find((c) => c.type === 'Initialized')!.status).toBe('False');
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      p = await sync();
    }
    expect(runtime.log).toEqual(['start proxy', 'start setup', 'start logger', 'start main']);
    expect(p.status!.conditions!.find((c) => c.type === 'Initialized')!.status).toBe('True');
    expect(p.status!.phase).toBe('Running');
    expect(p.status!.initContainerStatuses!.map((s) => `${s.name}:${Object.keys(s.state!)[0]}:${s.started}`)).toEqual(['proxy:running:true', 'setup:terminated:false', 'logger:running:true']);

    // The proxy exits by itself: restarted, even though the pod's policy is Never.
    await runtime.stopContainer((await runtime.listContainers()).find((c) => c.metadata?.name === 'proxy')!.id);
    clock.advance(100);
    p = await sync();
    expect(p.status!.initContainerStatuses![0]).toMatchObject({ name: 'proxy', restartCount: 1 });
    expect(p.status!.initContainerStatuses![0]!.state!.running).toBeDefined();

    // main finishes: the pod is Succeeded though the sidecars still ran; they are stopped, the last started first.
    clock.advance(3_000);
    p = await sync();
    expect(p.status!.phase).toBe('Succeeded');
    runtime.log.length = 0;
    await sync();
    expect(runtime.log).toEqual(['stop logger', 'stop proxy']);
  });
});
