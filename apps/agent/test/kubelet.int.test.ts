// Integration: the kubelet against REAL containerd (started by tools/containerd on the
// host network, with its egress guard), images from a real docker-registry on a free
// loopback port, and a real keel-apiserver on etcd. The agent registers its node and
// renews its Lease; pods bound to the node (spec.nodeName set, no scheduler) run: keel/web
// becomes Running and Ready with a pod IP and answers from the host; keel/job-ok ends
// Succeeded; keel/job-fail (Never) ends Failed with exit code 1; keel/crasher (Always)
// restarts into CrashLoopBackOff; a restarted agent adopts running pods without
// duplicates; deleting a pod stops its containers and removes it. Everything is torn
// down afterwards and checked to be gone.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type Pod } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { CriClient, runExec } from '@keel/cri';
import { eventually as pollUntil, freeLoopbackPorts, httpAnswers, startDaemon, type RunningDaemon } from '@keel/process';
import type { RunningContainerd } from '@keel/tools-containerd';
import { startEtcdCluster, type EtcdCluster } from '@keel/tools-etcd';
import type { Registry } from '@keel/tools-registry';
import { Labels } from '../src/kubelet/cri-config';
import { Kubelet } from '../src/kubelet/kubelet';
import { kubectlStatus } from '../src/kubelet/status';
import { startNodeRuntime } from './stream-node';

const root = resolve(import.meta.dirname, '../../..');
const work = mkdtempSync(join(tmpdir(), 'keel-kubelet-test-'));
const NODE = 'keel-kt-node';
const POD_CIDR = '10.244.233.0/24';
const logs: string[] = [];
const log = (level: string, msg: string, fields?: Record<string, unknown>) => logs.push(JSON.stringify({ t: Date.now() % 100_000, level, msg, ...fields }));

let registry: Registry | undefined;
let containerd: RunningContainerd | undefined;
let etcd: EtcdCluster | undefined;
let apiserver: RunningDaemon | undefined;
let client: Client;
let cri: CriClient;
let kubelet: Kubelet | undefined;
let image: (name: string) => string;
let grpcAddress = '';

function startKubelet(): Kubelet {
  return new Kubelet({
    client,
    cri,
    nodeName: NODE,
    nodeIP: '127.0.0.1',
    rootDir: join(work, 'keel-agent'),
    cgroupParent: containerd!.cgroupParent,
    podCidr: POD_CIDR,
    cniConflist: containerd!.paths.cniConflist,
    port: 0,
    leaseRenewMs: 1_000,
    housekeepingMs: 1_000,
    log,
  });
}

beforeAll(async () => {
  for (const app of ['apps/apiserver', 'apps/agent']) execFileSync('node', ['tools/scripts/bundle.mjs', app], { cwd: root, stdio: 'ignore' });
  ({ registry, containerd, cri, image } = await startNodeRuntime(work, { containerdDir: join(work, 'keel-kt-containerd'), podCidr: POD_CIDR, bridge: 'keel-kt0' }));
  // Warm the images, so the startup time below is the kubelet's, not the registry's.
  for (const name of ['keel/web', 'keel/job-ok', 'keel/job-fail', 'keel/crasher']) await cri.pullImage(image(name));

  etcd = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
  const [http, grpc] = (await freeLoopbackPorts(2)) as [number, number];
  apiserver = await startDaemon({
    argv: ['node', join(root, 'dist/apps/apiserver/main.js'), '--etcd-servers', etcd.endpoints.join(','), '--insecure-port', String(http), '--grpc-port', String(grpc)],
    pidFile: join(work, 'apiserver.pid'),
    logFile: join(work, 'apiserver.log'),
    ready: () => httpAnswers(`http://127.0.0.1:${http}/healthz`),
  });
  grpcAddress = `127.0.0.1:${grpc}`;
  client = new Client(new GrpcTransport({ address: grpcAddress, callTimeoutMs: 5_000 }));
  kubelet = startKubelet();
  await kubelet.start();
}, 180_000);

let agentProcess: ChildProcess | undefined;

afterAll(async () => {
  if (agentProcess?.exitCode === null) agentProcess.kill('SIGKILL');
  await kubelet?.stop();
  client?.close();
  cri?.close();
  await apiserver?.stop();
  await etcd?.stop({ removeData: true });
  const report = await containerd?.stop({ removeDir: true });
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
  // Should the launcher's bridge removal fail, still leave nothing behind (and fail below).
  const bridgeLeft = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes('keel-kt0:');
  if (bridgeLeft) execFileSync('ip', ['link', 'del', 'keel-kt0']);
  if (process.env['KEEL_DEBUG']) console.log(JSON.stringify(report), logs.slice(-40).join('\n'));
  expect(report?.problems ?? []).toEqual([]);
  if (containerd) {
    // Nothing of the node is left: process, mounts, bridge, rules, pod cgroups.
    expect(existsSync(`/proc/${containerd.pid}/cmdline`) && readFileSync(`/proc/${containerd.pid}/cmdline`, 'utf8').includes(containerd.paths.config)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(containerd.paths.dir);
    expect(bridgeLeft).toBe(false);
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toContain(containerd.record.network);
    expect(existsSync(join('/sys/fs/cgroup/memory', containerd.cgroupParent))).toBe(false);
  }
}, 120_000);

function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return pollUntil(what, check, { timeoutMs, intervalMs: 100, details: () => logs.slice(-15).join('\n') });
}

function pod(name: string, img: string, extra: Partial<NonNullable<Pod['spec']>> = {}, container: Partial<NonNullable<Pod['spec']>['containers'][number]> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: image(img), ...container }], ...extra },
  };
}

const getPod = (name: string) => client.pods('default').get(name);

function httpGet(url: string): Promise<string> {
  return new Promise((ok, fail) => {
    get(url, { timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok(body));
    }).on('error', fail);
  });
}

const sandboxesOf = async (uid: string) => cri.listPodSandbox({ label_selector: { [Labels.podUid]: uid } });

describe('kubelet on containerd', () => {
  it('registers its node with capacity, node info and conditions, and renews its Lease', async () => {
    const node = await eventually('node Ready', async () => {
      const n = await client.nodes().get(NODE);
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    expect(node.status!.nodeInfo!.containerRuntimeVersion).toMatch(/^containerd:\/\/1\./);
    expect(Number(node.status!.capacity!['cpu'])).toBeGreaterThan(0);
    expect(Object.keys(node.status!.allocatable!).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory', 'pods']);
    expect(node.status!.addresses).toEqual([
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: NODE },
    ]);
    expect(node.status!.conditions!.map((c) => `${c.type}=${c.status}`).sort()).toEqual(['DiskPressure=False', 'MemoryPressure=False', 'NetworkUnavailable=False', 'PIDPressure=False', 'Ready=True']);
    const lease = await client.leases('kube-node-lease').get(NODE);
    expect(lease.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 40 });
    const renewed = await eventually('lease renewal', async () => {
      const l = await client.leases('kube-node-lease').get(NODE);
      return l.spec!.renewTime !== lease.spec!.renewTime ? l : undefined;
    });
    expect(Date.parse(renewed.spec!.renewTime!)).toBeGreaterThan(Date.parse(lease.spec!.renewTime!));
  });

  it('runs keel/web to Running and Ready with a pod IP that answers from the host, and serves its logs', async () => {
    const t0 = Date.now();
    await client.pods('default').create(
      pod('web', 'keel/web', {}, {
        ports: [{ name: 'http', containerPort: 8080 }],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
      }),
    );
    const running = await eventually('web Running', async () => {
      const p = await getPod('web');
      return p.status?.phase === 'Running' ? p : undefined;
    });
    const tRunning = Date.now() - t0;
    const ready = await eventually('web Ready', async () => {
      const p = await getPod('web');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    });
    console.log(`pod startup (image present): create → Running ${tRunning} ms, → Ready ${Date.now() - t0} ms`);
    expect(running.status!.podIP).toMatch(/^10\.244\.233\./);
    expect(ready.status).toMatchObject({ hostIP: '127.0.0.1', podIPs: [{ ip: running.status!.podIP }] });
    const cs = ready.status!.containerStatuses![0]!;
    expect(cs).toMatchObject({ name: 'main', ready: true, started: true, restartCount: 0, image: image('keel/web') });
    expect(cs.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(cs.imageID).toMatch(/sha256:/);
    expect(ready.status!.conditions!.map((c) => `${c.type}=${c.status}`)).toEqual(['Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    expect(kubectlStatus(ready)).toBe('Running');
    expect(await httpGet(`http://${ready.status!.podIP}:8080/`)).toBe('hello from keel\n');

    // The environment from the downward API, through CRI exec.
    const exec = await cri.execSync(cs.containerID!.replace('containerd://', ''), ['sh', '-c', 'echo $POD_NAME; cat /proc/1/cmdline | tr "\\0" " "'], 5);
    expect(Buffer.from(exec.stdout).toString()).toMatch(/^web\nhttpd -f -v -p 8080/);

        const text = await eventually('logs', async () => {
      const body = await httpGet(`http://127.0.0.1:${kubelet!.port}/containerLogs/default/web/main?tailLines=5`);
      if (!body.includes('response:200')) throw new Error(`logs so far: ${JSON.stringify(body)}`);
      return body;
    });
    // busybox httpd -v logs one line per request (the readiness probe's and ours) to stderr.
    expect(text).toMatch(/^\[::ffff:10\.244\.233\.1\]:\d+: response:200$/m);
    const events = (await client.events('default').list()).items.filter((e) => e.involvedObject.name === 'web').map((e) => e.reason);
    expect(events).toEqual(expect.arrayContaining(['Created', 'Started']));

    // exec through the agent, which proxies the upgrade to containerd's stream server.
    const location = `http://127.0.0.1:${kubelet!.port}/exec/default/web/main?command=sh&command=-c&command=echo%20$POD_NAME;exit%203&stdout=true&stderr=true`;
    const result = await runExec(location);
    expect({ code: result.exitCode, out: result.stdout.toString() }).toEqual({ code: 3, out: 'web\n' });
  });

  it('starts 10 pods at once (image present): create → Running latencies', async () => {
    const created = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const name = `burst-${i}`;
        created.set(name, Date.now());
        await client.pods('default').create(pod(name, 'keel/web', {}, { ports: [{ containerPort: 8080 }] }));
      }),
    );
    const running = new Map<string, number>();
    await eventually('10 pods Running', async () => {
      for (const p of (await client.pods('default').list()).items) {
        if (p.metadata.name!.startsWith('burst-') && p.status?.phase === 'Running' && !running.has(p.metadata.name!)) running.set(p.metadata.name!, Date.now());
      }
      return running.size === 10 ? true : undefined;
    }, 60_000);
    const latencies = [...running].map(([name, t]) => t - created.get(name)!).sort((a, b) => a - b);
    console.log(`10 pods in parallel, create → Running (ms): p50 ${latencies[4]}, max ${latencies[9]}; all: ${latencies.join(' ')}`);
    expect(latencies[9]).toBeLessThan(20_000);
    for (let i = 0; i < 10; i++) await client.pods('default').delete(`burst-${i}`);
  });

  it('ends keel/job-ok Succeeded and keel/job-fail (Never) Failed with exit code 1', async () => {
    await client.pods('default').create(pod('job-ok', 'keel/job-ok', { restartPolicy: 'Never' }));
    await client.pods('default').create(pod('job-fail', 'keel/job-fail', { restartPolicy: 'Never' }));
    const ok = await eventually('job-ok Succeeded', async () => {
      const p = await getPod('job-ok');
      return p.status?.phase === 'Succeeded' ? p : undefined;
    });
    expect(ok.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(kubectlStatus(ok)).toBe('Completed');
    const failed = await eventually('job-fail Failed', async () => {
      const p = await getPod('job-fail');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    expect(failed.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(failed.status!.containerStatuses![0]!.restartCount).toBe(0);
    // A finished pod frees its sandbox (and IP) but keeps its exited container for logs.
    await eventually('job sandbox stopped', async () => ((await sandboxesOf(ok.metadata.uid!)).every((s) => s.state === 'SANDBOX_NOTREADY') ? true : undefined));
    expect(await httpGet(`http://127.0.0.1:${kubelet!.port}/containerLogs/default/job-ok/main`)).toBe('job: working\njob: done\n');
  });

  it('restarts keel/crasher (Always) into CrashLoopBackOff', async () => {
    await client.pods('default').create(pod('crasher', 'keel/crasher', {}, { env: [{ name: 'CRASH_AFTER', value: '0' }] }));
    const looping = await eventually('CrashLoopBackOff', async () => {
      const p = await getPod('crasher');
      const s = p.status?.containerStatuses?.[0];
      return s && s.restartCount >= 1 && s.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    });
    const s = looping.status!.containerStatuses![0]!;
    expect(s.lastState!.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(s.state!.waiting!.message).toMatch(/^back-off 10s restarting failed container=main pod=crasher_default/);
    expect(looping.status!.phase).toBe('Running');
    expect(kubectlStatus(looping)).toBe('CrashLoopBackOff');
    const events = (await client.events('default').list()).items.filter((e) => e.involvedObject.name === 'crasher').map((e) => e.reason);
    expect(events).toContain('BackOff');
  });

  it('runs init containers first, mounts emptyDir, configMap and secret volumes, and resolves env from them', async () => {
    await client.configMaps('default').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'default' }, data: { greeting: 'hello config', color: 'blue' } });
    await client.secrets('default').create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret', namespace: 'default' }, stringData: { password: 's3cret' } });
    const p = pod('configured', 'keel/busybox', {
      initContainers: [{ name: 'setup', image: image('keel/busybox'), command: ['sh', '-c', 'echo from-init > /work/init.txt'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
      volumes: [
        { name: 'work', emptyDir: {} },
        { name: 'config', configMap: { name: 'app-config' } },
        { name: 'secret', secret: { secretName: 'app-secret' } },
      ],
    }, {
      command: ['sh', '-c', 'cat /work/init.txt /config/greeting; echo; echo "$COLOR $PASSWORD $MY_NS"; cat /secret/password; echo; touch /config/x 2>/dev/null || echo config-read-only; exec sleep 3600'],
      env: [
        { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'color' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
        { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ],
      volumeMounts: [
        { name: 'work', mountPath: '/work' },
        { name: 'config', mountPath: '/config' },
        { name: 'secret', mountPath: '/secret' },
      ],
    });
    await client.pods('default').create(p);
    const running = await eventually('configured Running', async () => {
      const x = await getPod('configured');
      return x.status?.phase === 'Running' ? x : undefined;
    });
    expect(running.status!.initContainerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(running.status!.conditions!.find((c) => c.type === 'Initialized')!.status).toBe('True');
    const text = await eventually('configured logs', async () => {
      const body = await httpGet(`http://127.0.0.1:${kubelet!.port}/containerLogs/default/configured/main`);
      return body.includes('config-read-only') ? body : undefined;
    });
    expect(text).toBe('from-init\nhello config\nblue s3cret default\ns3cret\nconfig-read-only\n');
    await client.pods('default').delete('configured');
  });

  it('restarts a container whose liveness probe fails, and keeps a pod whose readiness probe fails unready', async () => {
    await client.pods('default').create(
      pod('unhealthy', 'keel/web', {}, { livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 2 } }),
    );
    await client.pods('default').create(pod('unready', 'keel/web', {}, { readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 } }));
    const restarted = await eventually('liveness restart', async () => {
      const x = await getPod('unhealthy');
      return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : undefined;
    });
    expect(restarted.status!.containerStatuses![0]!.lastState!.terminated).toBeDefined();
    const events = (await client.events('default').list()).items.filter((e) => e.involvedObject.name === 'unhealthy');
    expect(events.find((e) => e.reason === 'Unhealthy')!.message).toBe('Liveness probe failed: HTTP probe failed with statuscode: 404');
    expect(events.find((e) => e.reason === 'Killing')!.message).toBe('Container main failed liveness probe, will be restarted');

    const unready = await getPod('unready');
    expect(unready.status!.phase).toBe('Running');
    expect(unready.status!.containerStatuses![0]!.ready).toBe(false);
    expect(unready.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    // Make it ready from inside: the probe passes and the pod turns Ready.
    await cri.execSync(unready.status!.containerStatuses![0]!.containerID!.replace('containerd://', ''), ['touch', '/tmp/ready'], 5);
    await eventually('unready turns Ready', async () => ((await getPod('unready')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined));
    await client.pods('default').delete('unhealthy');
    await client.pods('default').delete('unready');
  });

  it('refuses a pod that does not fit (OutOfcpu) and reports an image it cannot pull (ErrImagePull, ImagePullBackOff)', async () => {
    await client.pods('default').create(pod('too-big', 'keel/web', {}, { resources: { requests: { cpu: '1000' } } }));
    const rejected = await eventually('OutOfcpu', async () => {
      const x = await getPod('too-big');
      return x.status?.phase === 'Failed' ? x : undefined;
    });
    expect(rejected.status).toMatchObject({ reason: 'OutOfcpu' });
    expect(rejected.status!.message).toMatch(/^Pod was rejected: Node didn't have enough resource: cpu, requested: 1000000, used: \d+, capacity: \d+$/);
    expect(await sandboxesOf(rejected.metadata.uid!)).toEqual([]);

    await client.pods('default').create({ ...pod('no-image', 'keel/web'), spec: { ...pod('no-image', 'keel/web').spec!, containers: [{ name: 'main', image: `${registry!.addr}/keel/missing:1.0` }] } });
    const pulling = await eventually('ErrImagePull', async () => {
      const x = await getPod('no-image');
      const reason = x.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      return reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? x : undefined;
    });
    expect(pulling.status!.phase).toBe('Pending');
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(kubectlStatus(pulling));
    await eventually('ImagePullBackOff', async () => ((await getPod('no-image')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? true : undefined));
    const events = (await client.events('default').list()).items.filter((e) => e.involvedObject.name === 'no-image').map((e) => `${e.reason}: ${e.message}`);
    expect(events).toEqual(expect.arrayContaining([`Pulling: Pulling image "${registry!.addr}/keel/missing:1.0"`, 'Failed: Error: ErrImagePull']));
    await client.pods('default').delete('too-big');
    await client.pods('default').delete('no-image');
  });

  it('adopts running pods after an agent restart, duplicating none', async () => {
    const web = await getPod('web');
    const before = await sandboxesOf(web.metadata.uid!);
    const containersBefore = (await cri.listContainers({ label_selector: { [Labels.podUid]: web.metadata.uid! } })).map((c) => c.id);
    await kubelet!.stop();
    kubelet = startKubelet();
    await kubelet.start();
    // The new agent probes the container again (readiness starts false after a restart, as in kubelet).
    await eventually('web Ready again', async () => ((await getPod('web')).status?.containerStatuses?.[0]?.ready ? true : undefined), 10_000);
    expect((await sandboxesOf(web.metadata.uid!)).map((s) => s.id)).toEqual(before.map((s) => s.id));
    expect((await cri.listContainers({ label_selector: { [Labels.podUid]: web.metadata.uid! } })).map((c) => c.id)).toEqual(containersBefore);
  });

  it('deleting a pod stops its containers, removes its sandbox, and the pod goes', async () => {
    const web = await getPod('web');
    const uid = web.metadata.uid!;
    await client.pods('default').delete('web');
    await eventually('pod removed', async () => {
      try {
        await getPod('web');
        return undefined;
      } catch (err) {
        return err instanceof ApiError && err.reason === 'NotFound' ? true : undefined;
      }
    });
    expect(await sandboxesOf(uid)).toEqual([]);
    expect(await cri.listContainers({ label_selector: { [Labels.podUid]: uid } })).toEqual([]);
    expect(existsSync(join(work, 'keel-agent', 'pods', uid))).toBe(false);
    expect(existsSync(join('/sys/fs/cgroup/memory', containerd!.cgroupParent, `pod${uid}`))).toBe(false);

    // The rest go too, including finished pods.
    for (const name of ['job-ok', 'job-fail', 'crasher']) await client.pods('default').delete(name);
    // (configured, unhealthy and unready were deleted by their tests.)
    await eventually('all pods removed', async () => ((await client.pods('default').list()).items.length === 0 && (await cri.listPodSandbox()).length === 0 ? true : undefined));
  });

  it('runs as the keel-agent command: JSON logs, registers, and exits 0 on SIGTERM; bad flags exit 2 with one line', async () => {
    const bad = spawnSync('node', [join(root, 'dist/apps/agent/main.js'), '--root-dir', join(work, 'not-keel'), '--container-runtime-endpoint', containerd!.endpoint], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);

    const out: string[] = [];
    agentProcess = spawn('node', [
      join(root, 'dist/apps/agent/main.js'),
      '--node-name', 'keel-kt-node2',
      '--apiserver', grpcAddress,
      '--container-runtime-endpoint', containerd!.endpoint,
      '--root-dir', join(work, 'keel-agent2'),
      '--cgroup-parent', containerd!.cgroupParent,
      '--pod-cidr', POD_CIDR,
      '--port', '0',
      '--disable-proxy',
    ]);
    agentProcess.stdout!.on('data', (d) => out.push(String(d)));
    await eventually('node2 Ready', async () =>
      (await client.nodes().get('keel-kt-node2')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined,
    );
    const exited = new Promise<number | null>((ok) => agentProcess!.once('exit', (code) => ok(code)));
    agentProcess.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['registered node', 'keel-agent running', 'stopping; pods keep running']));
  });

  it('a hollow node (--hollow) registers with its label and reports its pods Running, with no containerd involved', async () => {
    agentProcess = spawn('node', [
      join(root, 'dist/apps/agent/main.js'),
      '--hollow',
      '--node-name', 'keel-kt-hollow',
      '--apiserver', grpcAddress,
      '--root-dir', join(work, 'keel-agent-hollow'),
      '--pod-cidr', '10.254.7.0/24',
      '--port', '0',
    ]);
    const node = await eventually('hollow node Ready', async () => {
      const n = await client.nodes().get('keel-kt-hollow');
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    expect(node.metadata.labels).toMatchObject({ 'keel.io/hollow': 'true' });
    expect(node.status!.nodeInfo!.containerRuntimeVersion).toBe('hollow://0.1.0');
    await client.pods('default').create({ ...pod('hollow-web', 'keel/web'), spec: { ...pod('hollow-web', 'keel/web').spec!, nodeName: 'keel-kt-hollow' } });
    const running = await eventually('hollow pod Running', async () => {
      const p = await getPod('hollow-web');
      return p.status?.phase === 'Running' ? p : undefined;
    });
    expect(running.status!.podIP).toMatch(/^10\.254\.7\./);
    expect((await cri.listPodSandbox()).filter((s) => s.labels[Labels.podUid] === running.metadata.uid)).toEqual([]);
    await client.pods('default').delete('hollow-web');
    await eventually('hollow pod removed', async () => {
      try {
        await getPod('hollow-web');
        return undefined;
      } catch (err) {
        return err instanceof ApiError && err.reason === 'NotFound' ? true : undefined;
      }
    });
    const exited = new Promise<number | null>((ok) => agentProcess!.once('exit', (code) => ok(code)));
    agentProcess.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
