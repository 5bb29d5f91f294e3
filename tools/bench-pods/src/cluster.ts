// A whole one-node Keel cluster for the pod-startup and footprint benchmarks, started the
// way `keel up` starts it (TLS, client certificates and RBAC; one keel-store member, the
// apiserver, controller-manager, scheduler, the node's containerd and keel-agent, each
// from its built bundle in dist/apps) but in its own keel-… folder, on free loopback
// ports, with its own registry, node name, CNI bridge and pod CIDR, so it never meets a
// development cluster or another test on the same machine. The agent runs with
// --disable-proxy: the proxy's iptables chains (KEEL-SERVICES, …) are global names on the
// host, and a second proxy there would rewrite another cluster's Service rules.
// Everything is stopped by recorded PID and the node torn down by @keel/containerd — on the
// way out, on a failed start, and on SIGINT/SIGTERM at any point (the teardown is registered
// with @keel/process's onCleanup before the first daemon starts).
import { Client, clientFromFiles } from '@keel/client';
import { startContainerd, teardownNode, type RunningContainerd } from '@keel/containerd';
import { CriClient } from '@keel/cri';
import { EtcdClient } from '@keel/etcd-client';
import { createClusterPki } from '@keel/pki';
import { freeLoopbackPorts, httpAnswers, onCleanup, startDaemon, stopDaemon, stopDaemonsUnder, type RunningDaemon } from '@keel/process';
import { buildImages } from '@keel/tools-images';
import { pushImage, startRegistry, type Registry } from '@keel/tools-registry';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { basename, dirname, join, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export interface BenchClusterOptions {
  /** The cluster folder, named keel-…; removed by stop(). */
  dir: string;
  nodeName?: string;
  /** The node's CNI bridge (keel-…, ≤ 15 characters). */
  bridge?: string;
  /** The node's pod CIDR (a /24 inside clusterCidr). */
  podCidr?: string;
  clusterCidr?: string;
  /** Images pulled into containerd before anything is measured (repository names). */
  prePull?: string[];
  log?: (line: string) => void;
}

/** One process of the cluster, by the PID recorded when it started. */
export interface ClusterProcess {
  part: string;
  pid: number;
}

export interface BenchCluster {
  /** An admin client over keel.v1 gRPC with TLS (system:masters). */
  client: Client;
  nodeName: string;
  /** `127.0.0.1:PORT/keel/web:1.0` for `keel/web`. */
  image(name: string): string;
  processes: ClusterProcess[];
  /** Stops everything and removes the folder; returns the problems teardown met. */
  stop(): Promise<string[]>;
}

export const PARTS = ['keel-store', 'keel-apiserver', 'keel-controller-manager', 'keel-scheduler', 'keel-agent'] as const;
const builtBundle = (part: string) => join(REPO_ROOT, 'dist/apps', part.replace(/^keel-/, ''), 'main.js');

/**
 * Copies of the built bundles under the repo's tmp/ (so npm packages and protos/ still
 * resolve from the checkout): others may rebuild dist/ while the benchmark runs, and a
 * part must not fail to start because its bundle is being rewritten at that moment.
 */
async function snapshotBundles(): Promise<{ remove: () => Promise<void>; bundleOf: (part: string) => string }> {
  mkdirSync(join(REPO_ROOT, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, 'tmp', 'keel-bench-bundles-'));
  const remove = onCleanup(`bundle copies ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  for (const part of PARTS) {
    const from = builtBundle(part);
    const deadline = Date.now() + 60_000;
    while (!existsSync(from)) {
      if (Date.now() > deadline) {
        await remove();
        throw new Error(`${from} is missing: build first (npx nx run-many -t build)`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    mkdirSync(join(dir, part), { recursive: true });
    copyFileSync(from, join(dir, part, 'main.js'));
  }
  return { remove, bundleOf: (part) => join(dir, part, 'main.js') };
}

/** True once `url` answers 200 over HTTPS with `caFile` as the trusted CA. */
function httpsOk(url: string, caFile: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request(url, { ca: readFileSync(caFile), timeout: 1000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function storeHasLeader(endpoint: string): Promise<boolean> {
  const c = new EtcdClient({ endpoints: [endpoint], callTimeoutMs: 1000 });
  try {
    return (await c.status()).leader !== '0';
  } catch {
    return false;
  } finally {
    c.close();
  }
}

export async function startBenchCluster(opts: BenchClusterOptions): Promise<BenchCluster> {
  const dir = resolve(opts.dir);
  if (!basename(dir).startsWith('keel-')) throw new Error(`cluster dir must be named keel-…, got ${dir}`);
  const log = opts.log ?? (() => undefined);
  const nodeName = opts.nodeName ?? 'keel-bench-node';
  const bridge = opts.bridge ?? 'keel-bench0';
  const clusterCidr = opts.clusterCidr ?? '10.251.0.0/16';
  const podCidr = opts.podCidr ?? '10.251.0.0/24';

  const bundles = await snapshotBundles();
  const bundleOf = bundles.bundleOf;
  const daemons: { part: string; daemon: RunningDaemon }[] = [];
  let registry: Registry | undefined;
  let containerd: RunningContainerd | undefined;
  let client: Client | undefined;
  // Once only: a signal and the benchmark's own finally may both ask.
  let stopping: Promise<string[]> | undefined;
  const stopOnce = async (): Promise<string[]> => {
    const problems: string[] = [];
    client?.close();
    // The agent first (it would restart pods) — by its PID file, so one still starting is
    // stopped too — then containerd's teardown removes every sandbox through CRI (from the
    // node's record, even if start was interrupted), then the control plane, newest first.
    await stopDaemon(join(dir, 'run', 'keel-agent.pid'), 10_000).catch((e: unknown) => void problems.push(`keel-agent: ${String(e)}`));
    const node = containerd ? containerd.stop({ removeDir: true }) : existsSync(join(dir, 'keel-node')) ? teardownNode(join(dir, 'keel-node'), { removeDir: true }) : undefined;
    if (node) problems.push(...(await node.catch((e: unknown) => ({ problems: [String(e)] }))).problems);
    for (const d of [...daemons].reverse()) if (d.part !== 'keel-agent') await d.daemon.stop(10_000).catch((e: unknown) => void problems.push(`${d.part}: ${String(e)}`));
    await registry?.stop().catch((e: unknown) => void problems.push(`registry: ${String(e)}`));
    // Any daemon still recorded under the folder (one that was starting when a signal came).
    await stopDaemonsUnder(dir, 10_000);
    if (execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${bridge}:`)) problems.push(`bridge ${bridge} left behind`);
    rmSync(dir, { recursive: true, force: true });
    await bundles.remove();
    return problems;
  };
  const teardown = onCleanup(`bench cluster ${dir}`, async () => {
    const problems = await (stopping ??= stopOnce());
    if (problems.length) throw new Error(problems.join('; '));
  });
  const stop = async (): Promise<string[]> => {
    await teardown().catch(() => undefined);
    return stopping!;
  };

  try {
    // Images: built from local files, pushed to this cluster's own registry.
    log('building images and starting the registry');
    const images = await buildImages(join(dir, 'images'));
    const [registryPort, storeClient, storePeer, storeMetrics, apiPort, grpcPort, schedPort, cmPort, agentPort] = await freeLoopbackPorts(9);
    registry = await startRegistry({ dir: join(dir, 'keel-registry'), addr: `127.0.0.1:${registryPort}` });
    const wanted = new Set(['keel/pause', ...(opts.prePull ?? [])]);
    for (const i of images) if (wanted.has(i.name)) await pushImage(i.layoutDir, i.ref, registry.addr);
    const reg = registry.addr;
    const image = (name: string) => {
      const found = images.find((i) => i.name === name);
      if (!found) throw new Error(`no image ${name}`);
      return `${reg}/${found.ref}`;
    };

    const pki = await createClusterPki(join(dir, 'pki'), { nodes: [nodeName] });
    const creds = (name: string) => {
      const c = pki.clients[name]!;
      return ['--certificate-authority', pki.ca.certFile, '--client-certificate', c.certFile, '--client-key', c.keyFile];
    };
    const storeEndpoint = `127.0.0.1:${storeClient}`;
    const grpcAddress = `127.0.0.1:${grpcPort}`;
    const apiUrl = `https://127.0.0.1:${apiPort}`;
    const start = async (part: string, args: string[], ready: () => Promise<boolean>) => {
      log(`starting ${part}`);
      const daemon = await startDaemon({
        argv: [process.execPath, bundleOf(part), ...args],
        pidFile: join(dir, 'run', `${part}.pid`),
        logFile: join(dir, 'logs', `${part}.log`),
        ready,
        readyTimeoutMs: 60_000,
      });
      daemons.push({ part, daemon });
    };

    await start(
      'keel-store',
      ['--name', 'keel-bench', '--data-dir', join(dir, 'keel-store'), '--listen-client-urls', `http://${storeEndpoint}`, '--listen-peer-urls', `http://127.0.0.1:${storePeer}`, '--listen-metrics-urls', `http://127.0.0.1:${storeMetrics}`, '--log-level', 'warn'],
      () => storeHasLeader(storeEndpoint),
    );
    await start(
      'keel-apiserver',
      [
        '--etcd-servers', storeEndpoint,
        '--secure-port', String(apiPort),
        '--grpc-port', String(grpcPort),
        '--tls-cert-file', pki.apiserver.certFile,
        '--tls-private-key-file', pki.apiserver.keyFile,
        '--client-ca-file', pki.ca.certFile,
        '--service-account-key-file', pki.serviceAccount.publicKeyFile,
        '--service-account-signing-key-file', pki.serviceAccount.privateKeyFile,
      ],
      () => httpsOk(`${apiUrl}/readyz`, pki.ca.certFile),
    );
    await start(
      'keel-controller-manager',
      ['--apiserver', grpcAddress, '--apiserver-url', apiUrl, ...creds('kube-controller-manager'), '--cluster-cidr', clusterCidr, '--healthz-port', String(cmPort)],
      () => httpAnswers(`http://127.0.0.1:${cmPort}/healthz`),
    );
    await start('keel-scheduler', ['--grpc-server', grpcAddress, ...creds('kube-scheduler'), '--secure-port', String(schedPort)], () => httpAnswers(`http://127.0.0.1:${schedPort}/healthz`));

    log('starting containerd');
    containerd = await startContainerd({
      dir: join(dir, 'keel-node'),
      sandboxImage: image('keel/pause'),
      podCidr,
      bridge,
      streamAddress: '127.0.0.1',
      registries: [{ host: reg, endpoint: `http://${reg}` }],
    });
    // "Image already present": pull before anything is timed.
    const cri = new CriClient(containerd.endpoint);
    try {
      for (const name of wanted) await cri.pullImage(image(name));
    } finally {
      cri.close();
    }
    await start(
      'keel-agent',
      [
        '--node-name', nodeName,
        '--apiserver', grpcAddress,
        ...creds(`node-${nodeName}`),
        '--container-runtime-endpoint', containerd.endpoint,
        '--root-dir', join(dir, 'keel-agent'),
        '--pod-cidr', podCidr,
        '--cni-conf', containerd.paths.cniConflist,
        '--cgroup-parent', containerd.cgroupParent,
        '--cluster-cidr', clusterCidr,
        '--port', String(agentPort),
        '--disable-proxy',
      ],
      () => httpAnswers(`http://127.0.0.1:${agentPort}/healthz`),
    );

    const admin = pki.clients['admin']!;
    client = clientFromFiles({ address: grpcAddress, certificateAuthority: pki.ca.certFile, clientCertificate: admin.certFile, clientKey: admin.keyFile });
    const c = client;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const node = await c.nodes().get(nodeName).catch(() => undefined);
      const ready = node?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
      const tainted = (node?.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
      if (ready && !tainted) break;
      if (Date.now() > deadline) throw new Error(`node ${nodeName} not Ready and untainted after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const rt = containerd;
    return {
      client: c,
      nodeName,
      image,
      processes: [...daemons.map((d) => ({ part: d.part, pid: d.daemon.pid })), { part: 'containerd', pid: rt.pid }],
      stop,
    };
  } catch (err) {
    const problems = await stop();
    if (problems.length) log(`teardown after a failed start: ${problems.join('; ')}`);
    throw err;
  }
}

/** VmRSS and VmHWM of a process in MiB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Writes a benchmark's JSON (a path relative to the checkout) and says where. */
export function writeResult(outArg: string, result: unknown): void {
  const out = resolve(REPO_ROOT, outArg);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`wrote ${out}\n`);
}
