// Integration: what pods get beyond running — against REAL containerd, a real registry, a
// real keel-apiserver with TLS, RBAC and ServiceAccount token signing, and a real
// keel-controller-manager (ServiceAccount controller, root CA publisher). The kubelet runs
// in-process as system:node:<name> with its client certificate.
//  - The ServiceAccount admission mounts kube-api-access-…; the agent fills it through
//    TokenRequest over keel.v1; the token a container reads is a JWT the apiserver accepts
//    as system:serviceaccount:default:default (SelfSubjectReview), bound to the pod (and
//    refused once the pod is gone);
//    namespace and ca.crt are right.
//  - postStart hooks run in the container (a failing one kills it: FailedPostStartHook);
//    termination messages come from /dev/termination-log, or the log under
//    FallbackToLogsOnError; a sidecar runs beside the main container and is stopped once
//    the pod has Succeeded.
//  - /metrics shows the kubelet's pod worker counts.
// Everything is torn down afterwards and checked to be gone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { CriClient } from '@keel/cri';
import { Labels } from '../src/kubelet/cri-config';
import { createClusterPki, issueCert, type ClusterPki } from '@keel/pki';
import { eventually as pollUntil, freeLoopbackPorts, httpAnswers, startDaemon, type RunningDaemon } from '@keel/process';
import type { RunningContainerd } from '@keel/tools-containerd';
import { startEtcdCluster, type EtcdCluster } from '@keel/tools-etcd';
import type { Registry } from '@keel/tools-registry';
import { Kubelet } from '../src/kubelet/kubelet';
import { serveMetrics } from '../src/metrics';
import { startNodeRuntime } from './stream-node';

const root = resolve(import.meta.dirname, '../../..');
const work = mkdtempSync(join(tmpdir(), 'keel-podfeatures-test-'));
const NODE = 'keel-pf-node';
const POD_CIDR = '10.244.226.0/24';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const logs: string[] = [];
const log = (level: string, msg: string, fields?: Record<string, unknown>) => logs.push(JSON.stringify({ t: Date.now() % 100_000, level, msg, ...fields }));

let registry: Registry | undefined;
let containerd: RunningContainerd | undefined;
let etcd: EtcdCluster | undefined;
let apiserver: RunningDaemon | undefined;
let controllerManager: RunningDaemon | undefined;
let pki: ClusterPki;
let admin: Client;
let nodeClient: Client;
let cri: CriClient;
let kubelet: Kubelet | undefined;
let image: (name: string) => string;
let httpsPort = 0;
let grpcAddress = '';

type Credential = { cert: Buffer; key: Buffer } | { token: string };

/** One HTTPS request to the apiserver, as a client certificate or a bearer token. */
function apiRequest(method: string, path: string, as: Credential, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port: httpsPort,
        method,
        path,
        ca: readFileSync(pki.ca.certFile),
        ...('cert' in as ? { cert: as.cert, key: as.key } : {}),
        headers: { ...('token' in as ? { authorization: `Bearer ${as.token}` } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

const adminCert = () => ({ cert: readFileSync(pki.clients['admin']!.certFile), key: readFileSync(pki.clients['admin']!.keyFile) });
const tls = (name: string) => ({ ca: readFileSync(pki.ca.certFile), cert: readFileSync(pki.clients[name]!.certFile), key: readFileSync(pki.clients[name]!.keyFile) });

beforeAll(async () => {
  for (const app of ['apps/apiserver', 'apps/controller-manager']) execFileSync('node', ['tools/scripts/bundle.mjs', app], { cwd: root, stdio: 'ignore' });
  pki = await createClusterPki(join(work, 'keel-pki'), { nodes: [NODE] });
  ({ registry, containerd, cri, image } = await startNodeRuntime(work, { containerdDir: join(work, 'keel-pf-containerd'), podCidr: POD_CIDR, bridge: 'keel-pf0' }));
  await cri.pullImage(image('keel/job-ok'));

  etcd = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
  const [https, grpc, health] = (await freeLoopbackPorts(3)) as [number, number, number];
  httpsPort = https;
  apiserver = await startDaemon({
    argv: [
      'node', join(root, 'dist/apps/apiserver/main.js'),
      '--etcd-servers', etcd.endpoints.join(','),
      '--secure-port', String(https),
      '--grpc-port', String(grpc),
      '--tls-cert-file', pki.apiserver.certFile,
      '--tls-private-key-file', pki.apiserver.keyFile,
      '--client-ca-file', pki.ca.certFile,
      '--service-account-key-file', pki.serviceAccount.publicKeyFile,
      '--service-account-signing-key-file', pki.serviceAccount.privateKeyFile,
    ],
    pidFile: join(work, 'apiserver.pid'),
    logFile: join(work, 'apiserver.log'),
    ready: async () => (await apiRequest('GET', '/readyz', adminCert()).catch(() => ({ status: 0 }))).status === 200,
  });
  grpcAddress = `127.0.0.1:${grpc}`;
  const cm = pki.clients['kube-controller-manager']!;
  controllerManager = await startDaemon({
    argv: [
      'node', join(root, 'dist/apps/controller-manager/main.js'),
      '--apiserver', grpcAddress,
      '--certificate-authority', pki.ca.certFile,
      '--client-certificate', cm.certFile,
      '--client-key', cm.keyFile,
      '--controllers', 'serviceaccount,root-ca-cert-publisher',
      '--healthz-port', String(health),
    ],
    pidFile: join(work, 'controller-manager.pid'),
    logFile: join(work, 'controller-manager.log'),
    ready: () => httpAnswers(`http://127.0.0.1:${health}/healthz`),
  });
  admin = new Client(new GrpcTransport({ address: grpcAddress, tls: tls('admin'), callTimeoutMs: 5_000 }));
  nodeClient = new Client(new GrpcTransport({ address: grpcAddress, tls: tls(`node-${NODE}`), callTimeoutMs: 5_000 }));
  kubelet = new Kubelet({
    client: nodeClient,
    cri,
    nodeName: NODE,
    nodeIP: '127.0.0.1',
    rootDir: join(work, 'keel-agent'),
    cgroupParent: containerd!.cgroupParent,
    podCidr: POD_CIDR,
    cniConflist: containerd!.paths.cniConflist,
    port: 0,
    housekeepingMs: 1_000,
    log,
  });
  await kubelet.start();
}, 180_000);

afterAll(async () => {
  await kubelet?.stop();
  // Pods are left running by a stopped kubelet: remove them through CRI before containerd goes.
  for (const sb of (await cri?.listPodSandbox({}).catch(() => [])) ?? []) {
    await cri.stopPodSandbox(sb.id).catch(() => undefined);
    await cri.removePodSandbox(sb.id).catch(() => undefined);
  }
  admin?.close();
  nodeClient?.close();
  cri?.close();
  await controllerManager?.stop();
  await apiserver?.stop();
  await etcd?.stop({ removeData: true });
  const report = await containerd?.stop({ removeDir: true });
  await registry?.stop();
  if (process.env['KEEL_DEBUG']) console.log(JSON.stringify(report), logs.slice(-40).join('\n'));
  rmSync(work, { recursive: true, force: true });
  const bridgeLeft = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes('keel-pf0:');
  if (bridgeLeft) execFileSync('ip', ['link', 'del', 'keel-pf0']);
  expect(report?.problems ?? []).toEqual([]);
  expect(bridgeLeft).toBe(false);
  if (containerd) expect(existsSync(join('/sys/fs/cgroup/memory', containerd.cgroupParent))).toBe(false);
}, 120_000);

function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  return pollUntil(what, check, { timeoutMs, intervalMs: 150, details: () => logs.slice(-15).join('\n') });
}

type Spec = NonNullable<Pod['spec']>;
function pod(name: string, containers: Spec['containers'], extra: Partial<Spec> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers, ...extra } };
}

/** The container's log through the apiserver's pods/log (which reads it from the agent). */
async function podLog(name: string, container = 'main'): Promise<string> {
  const res = await apiRequest('GET', `/api/v1/namespaces/default/pods/${name}/log?container=${container}`, adminCert());
  if (res.status !== 200) throw new Error(`pods/log ${res.status}: ${res.text}`);
  return res.text;
}

describe('ServiceAccount token volume', () => {
  it("mounts a token the apiserver accepts as the pod's ServiceAccount, with its namespace and the cluster CA", async () => {
    await eventually('default ServiceAccount and kube-root-ca.crt', async () => {
      await admin.serviceAccounts('default').get('default');
      return (await admin.configMaps('default').get('kube-root-ca.crt')).data?.['ca.crt'];
    });
    const created = await admin.pods('default').create(
      pod('sa-token', [
        {
          name: 'main',
          image: image('keel/job-ok'),
          command: ['sh', '-c', `cat ${SA_DIR}/token; echo; echo "namespace=$(cat ${SA_DIR}/namespace)"; cat ${SA_DIR}/ca.crt; echo ALLDONE; sleep 3600`],
        },
      ]),
    );
    // The admission's volume and mount.
    const volume = created.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
    expect(volume.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(volume.projected!.sources![0]!.serviceAccountToken).toEqual({ path: 'token', expirationSeconds: 3607 });
    expect(created.spec!.containers[0]!.volumeMounts).toEqual([{ name: volume.name, readOnly: true, mountPath: SA_DIR }]);

    const text = await eventually('the pod printed its credentials', async () => {
      const t = await podLog('sa-token');
      return t.includes('ALLDONE') ? t : undefined;
    });
    const [token, namespaceLine] = text.split('\n');
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(namespaceLine).toBe('namespace=default');
    expect(text.slice(text.indexOf('\n', text.indexOf('namespace=')) + 1, text.indexOf('ALLDONE'))).toBe(readFileSync(pki.ca.certFile, 'utf8'));

    // The apiserver takes the token: who am I?
    const review = await apiRequest('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: token! }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(review.status).toBe(201);
    const userInfo = (JSON.parse(review.text) as { status: { userInfo: { username: string; groups: string[]; extra?: Record<string, string[]> } } }).status.userInfo;
    expect(userInfo.username).toBe('system:serviceaccount:default:default');
    expect(userInfo.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', 'system:serviceaccounts:default']));
    // Bound to this pod.
    expect(userInfo.extra?.['authentication.kubernetes.io/pod-name']).toEqual(['sa-token']);
    expect(userInfo.extra?.['authentication.kubernetes.io/pod-uid']).toEqual([created.metadata.uid]);
    // A made-up token is refused.
    const forged = await apiRequest('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: `${token!.slice(0, -4)}AAAA` }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(forged.status).toBe(401);
    // The token dies with its pod.
    await admin.pods('default').delete('sa-token');
    await eventually('the bound token refused', async () => {
      const res = await apiRequest('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: token! }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
      return res.status === 401 ? true : undefined;
    });
  });

  it('serves TokenRequest over keel.v1 under RBAC: a node may, a user without the right may not', async () => {
    const token = await nodeClient.createToken('default', 'default', { expirationSeconds: 600 });
    expect(token.status!.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(Date.parse(token.status!.expirationTimestamp) - Date.now()).toBeGreaterThan(500_000);
    const alice = await issueCert(pki.ca, join(work, 'keel-pki'), 'alice', { cn: 'alice', groups: ['dev'], usage: 'client' });
    const aliceClient = new Client(new GrpcTransport({ address: grpcAddress, tls: { ca: readFileSync(pki.ca.certFile), cert: readFileSync(alice.certFile), key: readFileSync(alice.keyFile) }, callTimeoutMs: 5_000 }));
    try {
      await expect(aliceClient.createToken('default', 'default', {})).rejects.toMatchObject({ reason: 'Forbidden', message: expect.stringContaining('serviceaccounts/token') });
    } finally {
      aliceClient.close();
    }
    // A subresource keel.v1 does not serve is NotFound, as on REST.
    await expect(admin.serviceAccounts('default').createSubresource('default', 'nope', { apiVersion: 'v1', kind: 'Status', metadata: {} })).rejects.toMatchObject({ reason: 'NotFound' });
  });

  it('mounts nothing for a pod that opts out', async () => {
    const created = await admin.pods('default').create(pod('no-token', [{ name: 'main', image: image('keel/job-ok'), command: ['sh', '-c', `ls ${SA_DIR} 2>&1; echo END`] }], { automountServiceAccountToken: false, restartPolicy: 'Never' }));
    expect(created.spec!.volumes ?? []).toEqual([]);
    const text = await eventually('the pod listed the folder', async () => {
      const t = await podLog('no-token');
      return t.includes('END') ? t : undefined;
    });
    expect(text).toMatch(/No such file or directory/);
    await admin.pods('default').delete('no-token');
  });
});

const sh = (script: string) => ['sh', '-c', script];

describe('container lifecycle on containerd', () => {
  it('runs a postStart hook inside the container, and kills a container whose hook fails (FailedPostStartHook)', async () => {
    await admin.pods('default').create(
      pod('hooks', [
        { name: 'main', image: image('keel/job-ok'), command: sh('for i in 1 2 3 4 5 6 7 8 9 10; do [ -f /tmp/hooked ] && break; sleep 0.2; done; cat /tmp/hooked; sleep 3600'), lifecycle: { postStart: { exec: { command: sh('echo "hook ran in $HOSTNAME" > /tmp/hooked') } } } },
        { name: 'bad', image: image('keel/job-ok'), command: sh('sleep 3600'), lifecycle: { postStart: { exec: { command: sh('echo no >&2; exit 7') } } } },
      ]),
    );
    expect(await eventually('the hook output', async () => ((await podLog('hooks')).includes('hook ran') ? podLog('hooks') : undefined))).toBe('hook ran in hooks\n');
    const p = await eventually('bad restarted', async () => {
      const got = await admin.pods('default').get('hooks');
      return (got.status?.containerStatuses?.find((s) => s.name === 'bad')?.restartCount ?? 0) >= 1 ? got : undefined;
    });
    expect(p.status!.containerStatuses!.find((s) => s.name === 'main')!).toMatchObject({ restartCount: 0, ready: true });
    const events = (await admin.events('default').list()).items.filter((e) => e.involvedObject.name === 'hooks');
    expect(events.find((e) => e.reason === 'FailedPostStartHook')?.message).toMatch(/^Exec lifecycle hook .* for Container "bad" in Pod "hooks_default\(.*\)" failed - error: exit code 7: no$/);
    await admin.pods('default').delete('hooks');
  });

  it('reports what a container wrote to /dev/termination-log, or its log tail under FallbackToLogsOnError', async () => {
    await admin.pods('default').create(
      pod(
        'messages',
        [
          { name: 'main', image: image('keel/job-ok'), command: sh('echo "disk full" > /dev/termination-log; exit 3') },
          { name: 'fallback', image: image('keel/job-ok'), command: sh('echo starting >&2; echo "cannot connect" >&2; exit 4'), terminationMessagePolicy: 'FallbackToLogsOnError' },
          { name: 'quiet', image: image('keel/job-ok'), command: sh('echo logs are not messages; exit 5') },
        ],
        { restartPolicy: 'Never' },
      ),
    );
    const p = await eventually('messages Failed', async () => {
      const got = await admin.pods('default').get('messages');
      return got.status?.phase === 'Failed' ? got : undefined;
    });
    const terminated = (name: string) => p.status!.containerStatuses!.find((s) => s.name === name)!.state!.terminated!;
    expect(terminated('main')).toMatchObject({ exitCode: 3, message: 'disk full\n' });
    expect(terminated('fallback')).toMatchObject({ exitCode: 4, message: 'starting\ncannot connect\n' });
    expect(terminated('quiet').exitCode).toBe(5);
    expect(terminated('quiet').message).toBeUndefined();
    await admin.pods('default').delete('messages');
  });

  it('runs a sidecar beside the main container, and stops it once the pod has Succeeded', async () => {
    const created = await admin.pods('default').create(
      pod('sidecar', [{ name: 'main', image: image('keel/job-ok'), command: sh('sleep 2; echo main done') }], {
        restartPolicy: 'Never',
        initContainers: [{ name: 'side', image: image('keel/job-ok'), restartPolicy: 'Always', command: sh('echo side up; exec sleep 3600') }],
      }),
    );
    const running = await eventually('main running beside the sidecar', async () => {
      const got = await admin.pods('default').get('sidecar');
      return got.status?.containerStatuses?.[0]?.state?.running ? got : undefined;
    });
    expect(running.status!.initContainerStatuses![0]).toMatchObject({ name: 'side', started: true });
    expect(running.status!.initContainerStatuses![0]!.state!.running).toBeDefined();
    const done = await eventually('sidecar pod Succeeded', async () => {
      const got = await admin.pods('default').get('sidecar');
      return got.status?.phase === 'Succeeded' ? got : undefined;
    });
    expect(done.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0 });
    expect(await podLog('sidecar', 'side')).toBe('side up\n');
    // Nothing of the pod runs any more: the sidecar was stopped after main.
    await eventually('the sidecar stopped', async () => {
      const live = await cri.listContainers({ label_selector: { [Labels.podUid]: created.metadata.uid! } });
      return live.every((c) => c.state !== 'CONTAINER_RUNNING') ? true : undefined;
    });
    await admin.pods('default').delete('sidecar');
  });
});

describe('kubelet metrics', () => {
  it('serves pod worker counts, sync outcomes and durations on /metrics', async () => {
    const server = await serveMetrics('127.0.0.1', 0, () => kubelet!.metricsText());
    try {
      const text = await new Promise<string>((ok, fail) => {
        get(`http://127.0.0.1:${server.port}/metrics`, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => ok(body));
        }).on('error', fail);
      });
      const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"+]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      // Every pod above was synced many times, and none of those syncs failed outright.
      const syncs = value('keel_kubelet_pod_worker_syncs_total{result="success"}');
      expect(syncs).toBeGreaterThan(10);
      expect(value('keel_kubelet_pod_worker_duration_seconds_count')).toBe(syncs + value('keel_kubelet_pod_worker_syncs_total{result="error"}'));
      expect(value('keel_kubelet_pod_workers')).toBe(kubelet!.podCount);
      expect(text).toContain('# TYPE keel_kubelet_pod_worker_duration_seconds histogram');
    } finally {
      await server.close();
    }
  });
});
