// The kubelet part of keel-agent: registers the node (node.ts), watches the pods bound to
// it (field selector spec.nodeName=<node>) and runs one PodWorker per pod uid, serialised
// per pod: an informer event or a worker's own timer schedules a sync, and a sync that
// arrives while one runs is folded into a single re-run. Housekeeping every 10 s finds
// sandboxes labelled as ours whose pod the API no longer has (deleted while the agent was
// down, or forgotten) and gives them a worker that tears them down, and rotates container
// logs (log-rotation.ts). Stopping the kubelet
// stops watching and working; pods keep running, as with kubelet, and the next agent
// adopts them by their labels. Once a second it lists the runtime and wakes the worker of
// any pod whose sandboxes or containers changed since that worker last looked (kubelet's
// PLEG), so settled pods need only a slow resync. Sandboxes start a few at a time
// (slots.ts). metricsText() reports the pod workers: how many, how many
// syncing now, their sync outcomes and durations.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Pod } from '@keel/api';
import { EventRecorder, Informer, type Client } from '@keel/client';
import { family, Histogram } from '../metrics';
import type { Runtime } from './runtime';
import { admit, type Rejection } from './admission';
import { Backoff, CrashLoopBackoff, ImagePullBackoff } from './backoff';
import { conflistSubnet, withSubnet } from './cni';
import { Labels, ManagedBy, type NodeSettings } from './cri-config';
import { rotateLogs } from './log-rotation';
import { createLogServer, type LogServerTls } from './log-server';
import { NodeAgent } from './node';
import { PodWorker, runtimeFingerprint, type Log } from './pod-worker';
import { Slots } from './slots';
import { ServiceAccountTokens } from './token-manager';

export interface KubeletOptions {
  client: Client;
  cri: Runtime;
  nodeName: string;
  nodeIP: string;
  /** The agent's keel-… folder: pod volumes, logs. */
  rootDir: string;
  cgroupParent: string;
  /** Used until the controller-manager sets spec.podCIDR. */
  podCidr?: string;
  /** The node's CNI conflist, rewritten when the pod CIDR differs (before the first sandbox). */
  cniConflist?: string;
  /** Where the logs endpoint listens; port 0 picks one. */
  address?: string;
  port?: number;
  /** Serve the endpoint over HTTPS, requiring client certificates when it has a client CA. */
  tls?: LogServerTls;
  clusterDNS?: string[];
  clusterDomain?: string;
  housekeepingMs?: number;
  /** RunPodSandbox calls at once (default: the CPU count, at least 2). */
  sandboxStarts?: number;
  /** How often the runtime is listed to wake the workers of pods that changed there (1 s). */
  relistMs?: number;
  /** Rotate a container's log past this size (10 MiB), keeping this many files (5). */
  containerLogMaxBytes?: number;
  containerLogMaxFiles?: number;
  /** Extra labels for the Node when the agent creates it (hollow nodes say so). */
  nodeLabels?: Record<string, string>;
  /** Lease renewal interval (10 s). */
  leaseRenewMs?: number;
  log: Log;
}

interface Slot {
  worker: PodWorker;
  timer?: NodeJS.Timeout;
  running: boolean;
  again: boolean;
}

export class Kubelet {
  private readonly slots = new Map<string, Slot>();
  private informer: Informer<Pod> | undefined;
  private node: NodeAgent | undefined;
  private server: Server | HttpsServer | undefined;
  private events: EventRecorder;
  private housekeeping: NodeJS.Timeout | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private relisting = false;
  private stopped = false;
  private podCidr: string | undefined;
  private networkWaiters: (() => void)[] = [];
  private firstSandbox = false;
  private readonly admitted = new Set<string>();
  private readonly crashBackoff = new Backoff(CrashLoopBackoff);
  private readonly pullBackoff = new Backoff(ImagePullBackoff);
  private readonly settings: NodeSettings;
  private readonly serviceAccountTokens: ServiceAccountTokens;
  private readonly syncs = { success: 0, error: 0 };
  private readonly syncDurations = new Histogram('keel_kubelet_pod_worker_duration_seconds', 'Duration of one pod worker sync.');
  port = 0;
  /** RunPodSandbox calls at once (slots.ts): one per CPU, at least two; a wait for one is cut at 5 s. */
  private readonly sandboxStarts: Slots;

  constructor(private readonly opts: KubeletOptions) {
    this.events = new EventRecorder({ client: opts.client, component: 'kubelet', host: opts.nodeName, onError: (err) => opts.log('debug', 'event not written', { error: String(err) }) });
    this.serviceAccountTokens = new ServiceAccountTokens(opts.client);
    this.sandboxStarts = new Slots(opts.sandboxStarts ?? Math.max(2, availableParallelism()), 5_000);
    this.settings = { nodeName: opts.nodeName, rootDir: opts.rootDir, cgroupParent: opts.cgroupParent, clusterDNS: opts.clusterDNS ?? [], clusterDomain: opts.clusterDomain ?? 'cluster.local' };
  }

  async start(): Promise<void> {
    const { opts } = this;
    mkdirSync(opts.rootDir, { recursive: true });
    this.server = createLogServer({
      cri: opts.cri,
      rootDir: opts.rootDir,
      ...(opts.tls ? { tls: opts.tls } : {}),
      onRefused: (entry) => opts.log('debug', 'node endpoint request refused', entry),
    });
    await new Promise<void>((ok, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(opts.port ?? 10250, opts.address ?? opts.nodeIP, ok);
    });
    this.port = (this.server.address() as AddressInfo).port;

    this.node = new NodeAgent({
      client: opts.client,
      cri: opts.cri,
      nodeName: opts.nodeName,
      nodeIP: opts.nodeIP,
      rootDir: opts.rootDir,
      port: this.port,
      leaseRenewMs: opts.leaseRenewMs,
      labels: opts.nodeLabels,
      log: opts.log,
      onPodCidr: (cidr) => this.setPodCidr(cidr, 'spec.podCIDR'),
    });
    if (opts.podCidr) this.setPodCidr(opts.podCidr, '--pod-cidr');
    await this.node.start();

    this.informer = new Informer<Pod>(opts.client.pods(), {
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      onError: (err, context) => opts.log('warn', 'pod informer', { context, error: String(err) }),
    });
    this.informer.addEventHandler({
      add: (pod) => this.podChanged(pod),
      update: (_, pod) => this.podChanged(pod),
      delete: (pod) => this.podGone(pod.metadata.uid!),
    });
    this.informer.start();
    this.relistTimer = setInterval(() => void this.relist().catch((err) => opts.log('debug', 'relist', { error: String(err) })), opts.relistMs ?? 1_000);
    this.housekeeping = setInterval(() => void this.housekeep().catch((err) => opts.log('warn', 'housekeeping', { error: String(err) })), opts.housekeepingMs ?? 10_000);
    opts.log('info', 'kubelet started', { node: opts.nodeName, logs: `${opts.tls ? 'https' : 'http'}://${opts.address ?? opts.nodeIP}:${this.port}` });
  }

  /** Stops watching and working; running pods are left alone. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.housekeeping);
    clearInterval(this.relistTimer);
    this.informer?.stop();
    this.node?.stop();
    for (const s of this.slots.values()) clearTimeout(s.timer);
    const deadline = Date.now() + 10_000;
    while ([...this.slots.values()].some((s) => s.running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.events.flush();
    // Followed log streams never end by themselves: cut them, then close.
    const closed = new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
    this.server?.closeAllConnections();
    await closed;
  }

  // ---- the pod CIDR ----

  private setPodCidr(cidr: string, source: string): void {
    if (cidr === this.podCidr) return;
    if (this.firstSandbox && this.podCidr) {
      this.opts.log('warn', 'pod CIDR changed after pods started; keeping the CNI config', { from: this.podCidr, to: cidr, source });
      return;
    }
    if (this.opts.cniConflist) {
      const text = readFileSync(this.opts.cniConflist, 'utf8');
      if (conflistSubnet(text) !== cidr) {
        writeFileSync(this.opts.cniConflist, withSubnet(text, cidr));
        this.opts.log('info', 'wrote pod CIDR into the CNI config', { cidr, source, file: this.opts.cniConflist });
      }
    }
    this.podCidr = cidr;
    void this.opts.cri.updatePodCidr(cidr).catch(() => undefined);
    for (const w of this.networkWaiters.splice(0)) w();
  }

  private networkReady = (): Promise<void> => {
    if (this.podCidr) {
      this.firstSandbox = true;
      return Promise.resolve();
    }
    return new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('network is not ready: no pod CIDR yet (spec.podCIDR or --pod-cidr)')), 5_000);
      this.networkWaiters.push(() => {
        clearTimeout(timer);
        this.firstSandbox = true;
        ok();
      });
    });
  };

  // ---- workers ----

  private slot(uid: string): Slot {
    let s = this.slots.get(uid);
    if (!s) {
      const worker = new PodWorker(uid, {
        cri: this.opts.cri,
        client: this.opts.client,
        events: this.events,
        settings: this.settings,
        hostIP: () => this.opts.nodeIP,
        log: this.opts.log,
        now: Date.now,
        crashBackoff: this.crashBackoff,
        pullBackoff: this.pullBackoff,
        networkReady: this.networkReady,
        sandboxSlot: (fn) => this.sandboxStarts.run(fn),
        serviceAccountTokens: this.serviceAccountTokens,
        admit: (pod) => this.admit(pod),
      });
      s = { worker, running: false, again: false };
      this.slots.set(uid, s);
    }
    return s;
  }

  private podChanged(pod: Pod): void {
    const s = this.slot(pod.metadata.uid!);
    const echo = s.worker.isOwnStatusEcho(s.worker.pod, pod);
    s.worker.pod = pod;
    // The echo of the worker's own status write needs no sync (its timer and the relist still run).
    if (!echo) this.schedule(s, 0);
  }

  private podGone(uid: string): void {
    const s = this.slot(uid);
    s.worker.pod = undefined;
    this.schedule(s, 0);
  }

  private schedule(s: Slot, delayMs: number): void {
    if (this.stopped) return;
    if (s.running) {
      if (delayMs === 0) s.again = true;
      return;
    }
    clearTimeout(s.timer);
    s.timer = setTimeout(() => void this.run(s), delayMs);
  }

  private async run(s: Slot): Promise<void> {
    s.running = true;
    s.again = false;
    let next: number | undefined;
    const started = performance.now();
    try {
      next = await s.worker.sync();
      this.syncs.success++;
    } catch (err) {
      this.syncs.error++;
      this.opts.log('warn', 'pod sync failed', { pod: s.worker.pod ? `${s.worker.pod.metadata.namespace}/${s.worker.pod.metadata.name}` : s.worker.uid, error: (err as Error).message });
      next = 2_000;
    } finally {
      s.running = false;
      this.syncDurations.observe((performance.now() - started) / 1000);
    }
    if (this.stopped) return;
    if (s.worker.finished && !s.worker.pod) {
      this.slots.delete(s.worker.uid);
      this.admitted.delete(s.worker.uid);
      return;
    }
    if (s.again) this.schedule(s, 0);
    else if (next !== undefined) this.schedule(s, next);
  }

  /**
   * kubelet's PLEG: one listing of every sandbox and container of ours, compared with what
   * each idle worker last saw of its pod; a worker whose pod changed since (a container
   * exited, a sandbox died) syncs now rather than at its next resync. Workers that are
   * syncing, or saw their pod after this listing began, are left alone.
   */
  private async relist(): Promise<void> {
    if (this.relisting || this.stopped) return;
    if (![...this.slots.values()].some((s) => s.worker.seen && !s.running)) return;
    this.relisting = true;
    try {
      const at = performance.now();
      const selector = { label_selector: { [Labels.managedBy]: ManagedBy } };
      const [sandboxes, containers] = await Promise.all([this.opts.cri.listPodSandbox(selector), this.opts.cri.listContainers(selector)]);
      const byUid = new Map<string, { sandboxes: typeof sandboxes; containers: typeof containers }>();
      const of = (uid: string | undefined) => {
        let e = byUid.get(uid ?? '');
        if (!e) byUid.set(uid ?? '', (e = { sandboxes: [], containers: [] }));
        return e;
      };
      for (const sb of sandboxes) of(sb.labels[Labels.podUid]).sandboxes.push(sb);
      for (const c of containers) of(c.labels[Labels.podUid]).containers.push(c);
      for (const s of this.slots.values()) {
        const seen = s.worker.seen;
        if (!seen || s.running || seen.at >= at) continue;
        const now = byUid.get(s.worker.uid) ?? { sandboxes: [], containers: [] };
        if (runtimeFingerprint(now.sandboxes, now.containers) !== seen.fingerprint) this.schedule(s, 0);
      }
    } finally {
      this.relisting = false;
    }
  }

  /** Admission against allocatable and the pods already admitted (synchronous, so two pods never both take the last room). */
  private admit(pod: Pod): Rejection | undefined {
    const uid = pod.metadata.uid!;
    if (this.admitted.has(uid)) return undefined;
    const active = (this.informer?.store.list() ?? []).filter(
      (p) =>
        p.metadata.uid !== uid &&
        (this.admitted.has(p.metadata.uid!) || !!p.status?.startTime) &&
        p.status?.phase !== 'Succeeded' &&
        p.status?.phase !== 'Failed',
    );
    const rejected = admit(pod, active, this.node?.allocatable);
    if (!rejected) this.admitted.add(uid);
    return rejected;
  }

  private async housekeep(): Promise<void> {
    await this.collectOrphans();
    const rotated = await rotateLogs(this.opts.cri, this.opts.rootDir, { maxBytes: this.opts.containerLogMaxBytes ?? 10 * 1024 * 1024, maxFiles: Math.max(2, this.opts.containerLogMaxFiles ?? 5) });
    for (const file of rotated) this.opts.log('info', 'rotated container log', { file });
  }

  /** Sandboxes of ours whose pod the API does not list: tear them down. */
  async collectOrphans(): Promise<void> {
    if (!this.informer?.hasSynced()) return;
    const sandboxes = await this.opts.cri.listPodSandbox({ label_selector: { [Labels.managedBy]: ManagedBy } });
    for (const sb of sandboxes) {
      const uid = sb.labels[Labels.podUid];
      if (!uid || this.slots.has(uid)) continue;
      this.opts.log('info', 'removing the sandbox of a pod that is gone', { uid, sandbox: sb.id.slice(0, 12) });
      this.podGone(uid);
    }
  }

  /** Prometheus text: pod worker counts, sync outcomes and durations. */
  metricsText(): string {
    const running = [...this.slots.values()].filter((s) => s.running).length;
    return [
      ...family('keel_kubelet_pod_workers', 'Pod workers (one per pod this node runs or tears down).', 'gauge', [{ value: this.slots.size }]),
      ...family('keel_kubelet_pod_workers_syncing', 'Pod workers syncing now.', 'gauge', [{ value: running }]),
      ...family('keel_kubelet_pod_worker_syncs_total', 'Pod worker syncs, by result.', 'counter', [
        { labels: { result: 'success' }, value: this.syncs.success },
        { labels: { result: 'error' }, value: this.syncs.error },
      ]),
      ...this.syncDurations.text(),
    ].join('\n') + '\n';
  }

  /** Pods the agent is working on (for tests and metrics). */
  get podCount(): number {
    return this.slots.size;
  }
}
