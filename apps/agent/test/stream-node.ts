// A one-node cluster for stream tests: a real docker-registry, containerd (its own bridge
// and pod CIDR), etcd, keel-apiserver (dist bundle) over TLS with client certificates and
// RBAC, and a kubelet in this process with its node endpoint on HTTPS, requiring client
// certificates from the cluster CA (the apiserver calls it as kube-apiserver-kubelet-client,
// as `keel up` wires them); pod `web` (containers `web`
// serving HTTP on 8080 and `side` sleeping) Running on it; kubeconfigs for the admin and for
// `bob`, whom RBAC lets read pods and only `get` pods/exec and pods/portforward.
// Its first part, startNodeRuntime (the registry with tools/images pushed, and containerd
// pulling from it), also serves kubelet.int and pod-features.int.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Pod, Role, RoleBinding } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { CriClient } from '@keel/cri';
import { createClusterPki, issueCert, kubeconfig, type CertFiles, type ClusterPki } from '@keel/pki';
import { eventually as pollUntil, freeLoopbackPort, freeLoopbackPorts, httpAnswers, startDaemon, type RunningDaemon } from '@keel/process';
import { startContainerd, type RunningContainerd } from '@keel/tools-containerd';
import { startEtcdCluster, type EtcdCluster } from '@keel/tools-etcd';
import { buildImages } from '@keel/tools-images';
import { pushImage, startRegistry, type Registry } from '@keel/tools-registry';
import { Kubelet } from '../src/kubelet/kubelet';
import { DEFAULT_NODE_AUTH } from '../src/kubelet/node-auth';

const root = resolve(import.meta.dirname, '../../..');

export interface StreamNode {
  work: string;
  pki: ClusterPki;
  apiUrl: string;
  /** The agent's node endpoint: https://127.0.0.1:<port>, serving certificate from pki.kubeletServing. */
  agentUrl: string;
  users: Record<'admin' | 'bob', CertFiles & { kubeconfig: string }>;
  logs: string[];
  /** Stops everything; `problems` are what the containerd launcher found left behind. */
  stop(): Promise<{ problems: string[] }>;
}

export function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, logs: string[] = []): Promise<T> {
  return pollUntil(what, check, { timeoutMs, details: () => logs.slice(-15).join('\n') });
}

export interface NodeRuntime {
  registry: Registry;
  containerd: RunningContainerd;
  cri: CriClient;
  /** The registry reference of an image of tools/images (keel/web, keel/pause, …). */
  image(name: string): string;
}

/**
 * A docker-registry on a free loopback port with the images of tools/images pushed (all, or
 * those named), and containerd (in containerdDir, also its cgroup's name: one per node) with
 * its own bridge and pod CIDR, pulling from that registry; a CRI client to it. Should a step
 * fail, what was started is stopped again.
 */
export async function startNodeRuntime(work: string, opts: { containerdDir: string; podCidr: string; bridge: string; images?: string[] }): Promise<NodeRuntime> {
  const images = (await buildImages(join(work, 'images'))).filter((i) => !opts.images || opts.images.includes(i.name));
  const registry = await startRegistry({ dir: join(work, 'keel-registry'), addr: `127.0.0.1:${await freeLoopbackPort()}` });
  try {
    for (const i of images) await pushImage(i.layoutDir, i.ref, registry.addr);
    const image = (name: string) => `${registry.addr}/${images.find((i) => i.name === name)!.ref}`;
    const containerd = await startContainerd({
      dir: opts.containerdDir,
      sandboxImage: image('keel/pause'),
      podCidr: opts.podCidr,
      bridge: opts.bridge,
      registries: [{ host: registry.addr, endpoint: `http://${registry.addr}` }],
    });
    return { registry, containerd, cri: new CriClient(containerd.endpoint), image };
  } catch (err) {
    await registry.stop().catch(() => undefined);
    throw err;
  }
}

export async function startStreamNode(opts: { node: string; podCidr: string; bridge: string }): Promise<StreamNode> {
  const work = mkdtempSync(join(tmpdir(), 'keel-streams-test-'));
  const logs: string[] = [];
  const log = (level: string, msg: string, fields?: Record<string, unknown>) => {
    if (level !== 'debug') logs.push(JSON.stringify({ level, msg, ...fields }));
  };
  let registry: Registry | undefined;
  let containerd: RunningContainerd | undefined;
  let etcd: EtcdCluster | undefined;
  let apiserver: RunningDaemon | undefined;
  let client: Client | undefined;
  let cri: CriClient | undefined;
  let kubelet: Kubelet | undefined;
  const stop = async () => {
    await kubelet?.stop();
    client?.close();
    cri?.close();
    await apiserver?.stop();
    await etcd?.stop({ removeData: true });
    const report = await containerd?.stop({ removeDir: true });
    await registry?.stop();
    if (process.env['KEEL_DEBUG']) {
      console.log(readFileSync(join(work, 'apiserver.log'), 'utf8').split('\n').slice(-60).join('\n'), logs.slice(-40).join('\n'));
    }
    rmSync(work, { recursive: true, force: true });
    const problems = [...(report?.problems ?? [])];
    if (execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${opts.bridge}:`)) {
      execFileSync('ip', ['link', 'del', opts.bridge]);
      problems.push(`bridge ${opts.bridge} was left behind`);
    }
    return { problems };
  };
  try {
    execFileSync('node', ['tools/scripts/bundle.mjs', 'apps/apiserver'], { cwd: root, stdio: 'ignore' });
    let image: NodeRuntime['image'];
    ({ registry, containerd, cri, image } = await startNodeRuntime(work, {
      containerdDir: join(work, `${opts.node}-containerd`),
      podCidr: opts.podCidr,
      bridge: opts.bridge,
      images: ['keel/pause', 'keel/web'],
    }));

    const pki = await createClusterPki(join(work, 'pki'), { nodes: [opts.node] });
    const bob = await issueCert(pki.ca, join(work, 'pki'), 'bob', { cn: 'bob', usage: 'client' });
    etcd = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
    const [secure, insecure, grpc] = (await freeLoopbackPorts(3)) as [number, number, number];
    const apiUrl = `https://127.0.0.1:${secure}`;
    apiserver = await startDaemon({
      argv: [
        'node', join(root, 'dist/apps/apiserver/main.js'), '--etcd-servers', etcd.endpoints.join(','),
        '--secure-port', String(secure), '--tls-cert-file', pki.apiserver.certFile, '--tls-private-key-file', pki.apiserver.keyFile,
        '--client-ca-file', pki.ca.certFile, '--insecure-port', String(insecure), '--grpc-port', String(grpc), '--log-requests',
        '--kubelet-client-certificate', pki.kubeletClient.certFile, '--kubelet-client-key', pki.kubeletClient.keyFile,
        '--kubelet-certificate-authority', pki.ca.certFile,
      ],
      pidFile: join(work, 'apiserver.pid'),
      logFile: join(work, 'apiserver.log'),
      ready: () => httpAnswers(`http://127.0.0.1:${insecure}/healthz`),
    });
    const users = {} as StreamNode['users'];
    for (const [name, files, user] of [['admin', pki.clients['admin']!, 'kubernetes-admin'], ['bob', bob, 'bob']] as const) {
      const file = join(work, `${name}.kubeconfig`);
      writeFileSync(file, kubeconfig({ server: apiUrl, caFile: pki.ca.certFile, client: files, user }));
      users[name] = { ...files, kubeconfig: file };
    }
    const grpcClient = (files: CertFiles) =>
      new Client(new GrpcTransport({ address: `127.0.0.1:${grpc}`, tls: { ca: readFileSync(pki.ca.certFile), cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) }, callTimeoutMs: 5_000 }));
    client = grpcClient(pki.clients[`node-${opts.node}`]!);
    kubelet = new Kubelet({
      client,
      cri,
      nodeName: opts.node,
      nodeIP: '127.0.0.1',
      rootDir: join(work, 'keel-agent'),
      cgroupParent: containerd.cgroupParent,
      podCidr: opts.podCidr,
      cniConflist: containerd.paths.cniConflist,
      port: 0,
      tls: {
        cert: readFileSync(pki.kubeletServing[opts.node]!.certFile),
        key: readFileSync(pki.kubeletServing[opts.node]!.keyFile),
        clientCa: readFileSync(pki.ca.certFile),
        authorized: DEFAULT_NODE_AUTH,
      },
      leaseRenewMs: 1_000,
      housekeepingMs: 1_000,
      log,
    });
    await kubelet.start();

    const admin = grpcClient(pki.clients['admin']!);
    try {
      const web = image('keel/web');
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          nodeName: opts.node,
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'web', image: web, ports: [{ containerPort: 8080 }], env: [{ name: 'WHO', value: 'web' }] },
            { name: 'side', image: web, command: ['sleep', '3600'], env: [{ name: 'WHO', value: 'side' }] },
          ],
        },
      };
      await admin.pods('default').create(pod);
      const RBAC = 'rbac.authorization.k8s.io';
      await admin.resource<Role>({ group: RBAC, version: 'v1', resource: 'roles' }).namespace('default').create({
        apiVersion: `${RBAC}/v1`,
        kind: 'Role',
        metadata: { name: 'exec-get-only', namespace: 'default' },
        rules: [
          { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['pods/exec', 'pods/portforward'], verbs: ['get'] },
        ],
      });
      await admin.resource<RoleBinding>({ group: RBAC, version: 'v1', resource: 'rolebindings' }).namespace('default').create({
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'bob-exec-get-only', namespace: 'default' },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: 'exec-get-only' },
        subjects: [{ kind: 'User', apiGroup: RBAC, name: 'bob' }],
      });
      await eventually(
        'pod web Running',
        async () => {
          const p = await admin.pods('default').get('web');
          return p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready) ? true : undefined;
        },
        60_000,
        logs,
      );
    } finally {
      admin.close();
    }
    return { work, pki, apiUrl, agentUrl: `https://127.0.0.1:${kubelet.port}`, users, logs, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
