// One pod's worker: a level-triggered reconcile of the desired pod (its spec, or its
// absence or deletion) against what CRI shows for the pod's uid, run serialised per pod
// by the Kubelet. Each sync:
//  1. observes the pod's sandboxes and containers (found by the pod-uid label, so an agent
//     that restarted adopts what is already running and creates no duplicates);
//  2. when the pod is gone or being deleted: preStop hooks, StopContainer with the grace
//     period, stop and remove the sandboxes, the pod's folders and cgroup; then the final
//     DELETE (gracePeriodSeconds 0) so the apiserver removes it;
//  3. when the pod has finished (Succeeded/Failed): stops its sandbox, keeps its exited
//     containers for logs;
//  4. otherwise: a ready sandbox, volumes written, init containers one at a time in
//     order (a sidecar — an init container with restartPolicy Always — is started in its
//     turn, kept running and restarted whenever it exits), then every container — pulled
//     by policy with ImagePullBackOff, postStart hook run (a failure kills it),
//     restarted by restart policy with CrashLoopBackOff, probed (startup, liveness,
//     readiness);
//  5. computes the status (status.ts; termination messages from termination-message.ts)
//     and writes it through the status subresource when it changed.
// A finished or deleted pod stops its main containers first, then its sidecars in reverse
// order.
// It answers how soon it wants to run again (probes and back-offs make that sooner).
import { rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, base64Decode, type Container, type Pod } from '@keel/api';
import type { Client, EventRecorder } from '@keel/client';
import { CriError, nanos, type Container__Output, type ContainerStatus__Output, type PodSandbox__Output, type PodSandboxConfig } from '@keel/cri';
import type { Rejection } from './admission';
import { Backoff } from './backoff';
import type { Runtime } from './runtime';
import { removeCgroup } from '@keel/containerd';
import { Labels, containerConfig, containerLogPath, podCgroupParent, podLogDir, sandboxConfig, type NodeSettings } from './cri-config';
import { ConfigError, referencedObjects, resolveEnv } from './env';
import { ProbeState, runHandler, type ProbeKind, type ProbeResult } from './probes';
import { computePodStatus, isSidecar, type ContainerView, type ObservedContainer } from './status';
import { terminationMessage, terminationMessageFile, terminationMessageMount } from './termination-message';
import type { ServiceAccountTokens } from './token-manager';
import { containerMounts, planVolumes, podDir, serviceAccountTokenKey, serviceAccountTokenProjections, writeVolumes, type VolumeSources } from './volumes';

export type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface WorkerDeps {
  cri: Runtime;
  client: Client;
  events: EventRecorder;
  settings: NodeSettings;
  hostIP: () => string;
  log: Log;
  now: () => number;
  crashBackoff: Backoff;
  pullBackoff: Backoff;
  /** Resolves once the pod network can be set up (a pod CIDR is known and in the CNI config). */
  networkReady: () => Promise<void>;
  /** TokenRequest with caching and refresh, for projected serviceAccountToken sources. */
  serviceAccountTokens?: ServiceAccountTokens;
  /** Runs RunPodSandbox when a slot is free (how many sandboxes start at once). */
  sandboxSlot?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Node admission for a pod not yet started here (admission.ts); undefined admits. */
  admit?: (pod: Pod) => Rejection | undefined;
}

const ms = (n: string | undefined) => Number(nanos(n) / 1_000_000n);

type ApiObjects = Omit<VolumeSources, 'podIP' | 'hostIP'>;
/** JSON with object keys sorted, so two equal values compare equal as strings whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** A promise's outcome, without an unhandled rejection while nobody awaits it yet. */
type Settled<T> = { value: T } | { error: unknown };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> => p.then((value) => ({ value }), (error: unknown) => ({ error }));
/** Asked before RunPodSandbox, for the containers' first start in the same sync. */
interface Prefetched {
  objects: Promise<Settled<ApiObjects>>;
  images: Map<string, Promise<Settled<Awaited<ReturnType<Runtime['imageStatus']>>>>>;
}
/** A pod still getting somewhere (starting, waiting, backing off) looks again this soon. */
const ACTIVE_RESYNC_MS = 1_000;
/**
 * A settled pod (every container running, nothing waiting) looks again this late: the
 * Kubelet's relist wakes it at once when its sandboxes or containers change, probes and
 * informer events wake it too; this resync refreshes its volumes (ConfigMaps, Secrets,
 * tokens). Kubelet's own is a minute.
 */
const SETTLED_RESYNC_MS = 10_000;

/**
 * What the runtime shows of a pod's sandboxes and containers, as a string that changes
 * when one comes, goes or changes state: the Kubelet's relist compares it with what the
 * worker last saw (kubelet's PLEG).
 */
export function runtimeFingerprint(sandboxes: readonly PodSandbox__Output[], containers: readonly Container__Output[]): string {
  return [...sandboxes.map((s) => `s ${s.id} ${s.state}`), ...containers.map((c) => `c ${c.id} ${c.state}`)].sort().join('\n');
}

interface Observed {
  /** performance.now() when the listing began. */
  at: number;
  sandboxes: PodSandbox__Output[];
  ready?: PodSandbox__Output;
  podIP?: string;
  /** By container name, newest attempt first. */
  byName: Map<string, ObservedContainer[]>;
  raw: Container__Output[];
}

export class PodWorker {
  /** The pod as the informer last saw it; undefined once it is gone from the API. */
  pod: Pod | undefined;
  /** Set once a sync found nothing left to do for a removed pod. */
  finished = false;
  private readonly waiting = new Map<string, { reason: string; message?: string }>();
  private readonly probes = new Map<string, Partial<Record<ProbeKind, ProbeState>>>();
  private lastStatus = '';
  /** The status last sent (set before the PATCH goes out, so its echo is known while it is in flight). */
  private sentStatus = '';
  /**
   * What the last sync of a running pod saw of it in the runtime, and when that listing
   * began (performance.now()); undefined while a sync runs or when the pod is finished or
   * going, so the relist leaves it to its own timer.
   */
  seen: { fingerprint: string; at: number } | undefined;
  private readonly startTime: string;
  private deleteSent = false;

  constructor(
    readonly uid: string,
    private readonly deps: WorkerDeps,
  ) {
    this.startTime = new Date(deps.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private key(name: string): string {
    return `${this.uid}/${name}`;
  }

  async sync(): Promise<number | undefined> {
    const pod = this.pod;
    this.seen = undefined;
    if (pod) this.deps.log('debug', 'sync', { pod: this.name(pod) });
    let obs = await this.observe();
    if (!pod || pod.metadata.deletionTimestamp) {
      await this.terminate(pod, obs);
      if (pod && !this.deleteSent) {
        try {
          await this.deps.client.pods(pod.metadata.namespace).delete(pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
          this.deleteSent = true;
        } catch (err) {
          if (err instanceof ApiError && (err.reason === 'NotFound' || err.reason === 'Conflict')) this.deleteSent = true;
          else throw err;
        }
      }
      if (!pod) this.finished = true;
      return pod ? 2_000 : undefined;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      // Finished pods free their sandbox (and its IP) but keep exited containers for logs;
      // sidecars still running go last, the last started first.
      await this.stopInOrder(pod, obs, Math.min(pod.spec?.terminationGracePeriodSeconds ?? 30, 10));
      for (const s of obs.sandboxes) if (s.state === 'SANDBOX_READY') await this.deps.cri.stopPodSandbox(s.id);
      return undefined;
    }

    // A pod new to this node must fit first (kubelet's admission); one already started is never re-judged.
    if (!obs.sandboxes.length && !pod.status?.startTime) {
      const rejected = this.deps.admit?.(pod);
      if (rejected) return this.fail(pod, rejected.reason, rejected.message);
    }
    const deadline = pod.spec?.activeDeadlineSeconds;
    const started = Date.parse(pod.status?.startTime ?? '');
    if (deadline !== undefined && started && this.deps.now() > started + deadline * 1000) {
      await this.stopAll(pod, obs);
      return this.fail(pod, 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
    }

    const acted = await this.reconcile(pod, obs);
    if (acted) obs = await this.observe();
    await this.writeStatus(pod, obs);
    this.seen = { fingerprint: runtimeFingerprint(obs.sandboxes, obs.raw), at: obs.at };
    return this.nextWakeMs(deadline === undefined && this.settled(pod, obs));
  }

  /** Ends the pod as Failed with a pod-level reason (admission, deadline). */
  private async fail(pod: Pod, reason: string, message: string): Promise<undefined> {
    this.deps.events.event(pod, 'Warning', reason, message);
    const status = { ...pod.status, phase: 'Failed' as const, reason, message, startTime: pod.status?.startTime ?? this.startTime };
    await this.deps.client.pods(pod.metadata.namespace).patch(pod.metadata.name!, 'merge', { status }, { subresource: 'status' });
    this.deps.log('info', 'pod failed on the node', { pod: this.name(pod), reason });
    return undefined;
  }

  private async stopAll(pod: Pod, obs: Observed): Promise<void> {
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    await Promise.all(obs.raw.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => this.deps.cri.stopContainer(c.id, grace)));
  }

  // ---- observation ----

  private async observe(): Promise<Observed> {
    const { cri } = this.deps;
    const at = performance.now();
    const selector = { label_selector: { [Labels.podUid]: this.uid } };
    const sandboxes = (await cri.listPodSandbox(selector)).sort((a, b) => Number(nanos(b.created_at) - nanos(a.created_at)));
    const ready = sandboxes.find((s) => s.state === 'SANDBOX_READY');
    let podIP: string | undefined;
    if (ready) podIP = (await cri.podSandboxStatus(ready.id)).status?.network?.ip || undefined;
    const raw = await cri.listContainers(selector);
    const byName = new Map<string, ObservedContainer[]>();
    for (const c of raw) {
      const name = c.labels[Labels.containerName] ?? c.metadata?.name ?? '';
      const list = byName.get(name) ?? [];
      list.push({ id: c.id, name, attempt: c.metadata?.attempt ?? 0, state: 'unknown', exitCode: 0, reason: '', message: '', startedAt: 0, finishedAt: 0, imageRef: c.image_ref });
      byName.set(name, list);
    }
    for (const list of byName.values()) {
      list.sort((a, b) => b.attempt - a.attempt);
      // Only the newest two matter (state and lastState).
      for (const oc of list.slice(0, 2)) {
        let st: ContainerStatus__Output | null = null;
        try {
          st = (await cri.containerStatus(oc.id)).status;
        } catch (err) {
          if (!CriError.is(err, 'NotFound')) throw err;
        }
        if (!st) continue;
        oc.state = st.state === 'CONTAINER_RUNNING' ? 'running' : st.state === 'CONTAINER_EXITED' ? 'exited' : st.state === 'CONTAINER_CREATED' ? 'created' : 'unknown';
        oc.exitCode = st.exit_code;
        oc.reason = st.reason;
        oc.message = st.message;
        oc.startedAt = ms(st.started_at);
        oc.finishedAt = ms(st.finished_at);
        oc.imageRef = st.image_ref;
      }
    }
    return { at, sandboxes, ready, podIP, byName, raw };
  }

  // ---- running the pod ----

  /** Drives the runtime one step towards the spec; answers whether it changed anything. */
  private async reconcile(pod: Pod, obs: Observed, prefetched?: Prefetched): Promise<boolean> {
    const { cri, settings } = this.deps;
    const spec = pod.spec!;
    let acted = false;
    let sandboxId = obs.ready?.id;
    const attempt = obs.sandboxes.length ? Math.max(...obs.sandboxes.map((s) => s.metadata?.attempt ?? 0)) + (obs.ready ? 0 : 1) : 0;
    const sbConfig = sandboxConfig(pod, settings, attempt);

    if (!sandboxId) {
      // A sandbox that died takes its containers with it: start the pod over.
      for (const c of obs.raw) if (c.state === 'CONTAINER_RUNNING') await cri.stopContainer(c.id, 0);
      for (const s of obs.sandboxes) {
        await cri.stopPodSandbox(s.id);
        await cri.removePodSandbox(s.id);
      }
      if (obs.sandboxes.length) this.deps.events.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      // What the containers need from the API and whether their images are present does not
      // depend on the sandbox: ask while RunPodSandbox (the slowest step) runs. Both are
      // read-only; a failure is met again, and reported, where the result is used.
      const ahead: Prefetched = { objects: settle(this.fetchObjects(pod)), images: new Map() };
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const image = c.image ?? '';
        if (!ahead.images.has(image)) ahead.images.set(image, settle(cri.imageStatus(image)));
      }
      try {
        await this.deps.networkReady();
        mkdirSync(sbConfig.log_directory!, { recursive: true });
        const t0 = this.deps.now();
        sandboxId = await (this.deps.sandboxSlot ? this.deps.sandboxSlot(() => cri.runPodSandbox(sbConfig)) : cri.runPodSandbox(sbConfig));
        this.deps.log('debug', 'sandbox started', { pod: this.name(pod), ms: this.deps.now() - t0 });
      } catch (err) {
        this.deps.events.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
        this.deps.log('warn', 'sandbox failed', { pod: this.name(pod), error: (err as Error).message });
        return true;
      }
      // Go on to the containers in the same sync: waiting for the next one would add a second to startup.
      if (!prefetched) await this.reconcile(pod, await this.observe(), ahead);
      return true;
    }

    let sources: VolumeSources;
    let volumes: ReturnType<typeof planVolumes>;
    try {
      sources = await this.fetchSources(pod, obs.podIP, prefetched?.objects);
      volumes = planVolumes(pod, settings.rootDir, sources);
      writeVolumes(volumes.values());
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) this.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      this.deps.events.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return false;
    }
    const start = async (c: Container, n: number) => {
      acted = (await this.startContainer(pod, c, n, sandboxId!, sbConfig, sources, volumes, obs.podIP, prefetched?.images)) || acted;
    };

    // Init containers, one at a time and in order.
    for (const c of spec.initContainers ?? []) {
      const list = obs.byName.get(c.name) ?? [];
      const cur = list[0];
      if (isSidecar(c)) {
        // A sidecar: the next init container waits until it has started; it runs beside
        // the rest of the pod, restarted whenever it exits, whatever the pod's restartPolicy.
        await this.removeOldAttempts(c, list);
        if (!cur) await start(c, 0);
        else if (cur.state === 'created') await this.retryCreated(c, cur, start);
        else if (cur.state === 'exited') {
          await this.restart(pod, c, cur, start);
          continue;
        } else if (cur.state === 'running') {
          acted = (await this.probe(pod, c, cur, obs.podIP)) || acted;
          if (this.hasStarted(cur)) continue;
        }
        return acted;
      }
      if (cur?.state === 'exited' && cur.exitCode === 0) continue;
      if (!cur) await start(c, 0);
      else if (cur.state === 'exited' && spec.restartPolicy !== 'Never') await this.restart(pod, c, cur, start);
      else if (cur.state === 'created') await this.retryCreated(c, cur, start);
      return acted;
    }

    for (const c of spec.containers) {
      const list = obs.byName.get(c.name) ?? [];
      const cur = list[0];
      if (!cur) await start(c, 0);
      else if (cur.state === 'running') acted = (await this.probe(pod, c, cur, obs.podIP)) || acted;
      else if (cur.state === 'created') await this.retryCreated(c, cur, start);
      else if (cur.state === 'exited') {
        const policy = spec.restartPolicy ?? 'Always';
        if (policy === 'Always' || (policy === 'OnFailure' && cur.exitCode !== 0)) await this.restart(pod, c, cur, start);
      }
      // Keep the newest two attempts (state and lastState); older ones are garbage.
      await this.removeOldAttempts(c, list);
    }
    return acted;
  }

  /** Only the newest two attempts matter (state and lastState): older ones go, with their termination message files. */
  private async removeOldAttempts(c: Container, list: ObservedContainer[]): Promise<void> {
    for (const old of list.slice(2)) {
      if (old.state === 'running') continue;
      await this.deps.cri.removeContainer(old.id);
      rmSync(terminationMessageFile(podDir(this.deps.settings.rootDir, this.uid), c.name, old.attempt), { force: true });
    }
  }

  /** Running and past its startup probe (or without one). */
  private hasStarted(cur: ObservedContainer): boolean {
    const startup = this.probes.get(cur.id)?.startup;
    return cur.state === 'running' && (!startup || startup.result === 'success');
  }

  /** Stops what still runs: main containers (at once), then sidecars one by one, the last started first. */
  private async stopInOrder(pod: Pod | undefined, obs: Observed, graceSeconds: number, before?: (rc: Container__Output, spec: Container | undefined) => Promise<void>): Promise<void> {
    const { cri } = this.deps;
    const sidecars = (pod?.spec?.initContainers ?? []).filter(isSidecar).map((c) => c.name);
    const running = obs.raw.filter((c) => c.state === 'CONTAINER_RUNNING');
    const nameOf = (rc: Container__Output) => rc.labels[Labels.containerName] ?? '';
    const specOf = (name: string) => pod?.spec?.containers.find((c) => c.name === name) ?? pod?.spec?.initContainers?.find((c) => c.name === name);
    const deadline = this.deps.now() + graceSeconds * 1000;
    const stop = async (rc: Container__Output) => {
      await before?.(rc, specOf(nameOf(rc)));
      await cri.stopContainer(rc.id, Math.max(0, Math.ceil((deadline - this.deps.now()) / 1000)));
    };
    await Promise.all(running.filter((rc) => !sidecars.includes(nameOf(rc))).map(stop));
    for (const name of [...sidecars].reverse()) for (const rc of running.filter((r) => nameOf(r) === name)) await stop(rc);
  }

  /** Restarts an exited container unless it is in CrashLoopBackOff. */
  private async restart(pod: Pod, c: Container, cur: ObservedContainer, start: (c: Container, n: number) => Promise<void>): Promise<void> {
    const { crashBackoff } = this.deps;
    const now = this.deps.now();
    const key = this.key(c.name);
    // A container that ran for 10 minutes starts its back-off over.
    if (cur.startedAt && cur.finishedAt - cur.startedAt > 600_000) crashBackoff.reset(key);
    if (crashBackoff.inBackoff(key, now, cur.finishedAt || undefined)) {
      const message = `back-off ${Math.round(crashBackoff.delay(key) / 1000)}s restarting failed container=${c.name} pod=${this.name(pod)}(${this.uid})`;
      if (this.waiting.get(c.name)?.reason !== 'CrashLoopBackOff') this.deps.events.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
      this.waiting.set(c.name, { reason: 'CrashLoopBackOff', message });
      return;
    }
    crashBackoff.next(key, now);
    await start(c, cur.attempt + 1);
  }

  /** A container left in CREATED (its start failed): remove it and try again after the back-off. */
  private async retryCreated(c: Container, cur: ObservedContainer, start: (c: Container, n: number) => Promise<void>): Promise<void> {
    if (this.deps.crashBackoff.inBackoff(this.key(c.name), this.deps.now())) return;
    await this.deps.cri.removeContainer(cur.id);
    await start(c, cur.attempt + 1);
  }

  private async ensureImage(pod: Pod, c: Container, prefetched?: Prefetched['images']): Promise<string | undefined> {
    const { cri, pullBackoff, events } = this.deps;
    const image = c.image ?? '';
    const policy = c.imagePullPolicy ?? (image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent');
    // Asked while the sandbox started (a failure then is asked again now); used once.
    const early = prefetched?.get(image);
    prefetched?.delete(image);
    const present = early ? await early.then((r) => ('value' in r ? r.value : cri.imageStatus(image))) : await cri.imageStatus(image);
    if (present && policy !== 'Always') return present.id;
    if (!present && policy === 'Never') {
      this.waiting.set(c.name, { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` });
      return undefined;
    }
    const key = `${this.key(c.name)}/${image}`;
    if (pullBackoff.inBackoff(key, this.deps.now())) {
      this.waiting.set(c.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      return undefined;
    }
    events.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = this.deps.now();
    try {
      const ref = await cri.pullImage(image);
      pullBackoff.reset(key);
      events.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${this.deps.now() - t0}ms`);
      return ref;
    } catch (err) {
      pullBackoff.next(key, this.deps.now());
      const message = `Failed to pull image "${image}": ${(err as Error).message}`;
      events.event(pod, 'Warning', 'Failed', message);
      events.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
      this.waiting.set(c.name, { reason: 'ErrImagePull', message });
      return undefined;
    }
  }

  private async startContainer(
    pod: Pod,
    c: Container,
    attempt: number,
    sandboxId: string,
    sbConfig: PodSandboxConfig,
    sources: VolumeSources,
    volumes: ReturnType<typeof planVolumes>,
    podIP: string | undefined,
    images?: Prefetched['images'],
  ): Promise<boolean> {
    const { cri, events } = this.deps;
    const imageRef = await this.ensureImage(pod, c, images);
    if (!imageRef) return false;
    let config;
    try {
      const termination = terminationMessageMount(podDir(this.deps.settings.rootDir, this.uid), c, attempt);
      const mounts = [...containerMounts(c, volumes), ...(termination ? [termination] : [])];
      config = containerConfig(pod, c, attempt, resolveEnv(pod, c, sources), mounts, c.image ?? imageRef);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      events.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return false;
    }
    mkdirSync(join(sbConfig.log_directory!, c.name), { recursive: true });
    let id: string;
    try {
      id = await cri.createContainer(sandboxId, config, sbConfig);
    } catch (err) {
      this.deps.crashBackoff.next(this.key(c.name), this.deps.now());
      this.waiting.set(c.name, { reason: 'CreateContainerError', message: (err as Error).message });
      events.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      return false;
    }
    events.event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await cri.startContainer(id);
    } catch (err) {
      this.deps.crashBackoff.next(this.key(c.name), this.deps.now());
      this.waiting.set(c.name, { reason: 'RunContainerError', message: (err as Error).message });
      events.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      return true;
    }
    this.waiting.delete(c.name);
    this.deps.log('debug', 'container started', { pod: this.name(pod), container: c.name, attempt });
    events.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    if (c.lifecycle?.postStart) await this.postStart(pod, c, id, podIP);
    return true;
  }

  /**
   * Runs the postStart hook; as kubelet does, the container counts as started only after
   * it, and a failing hook kills the container (then its restart policy decides).
   */
  private async postStart(pod: Pod, c: Container, id: string, podIP: string | undefined): Promise<void> {
    const hook = c.lifecycle!.postStart!;
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    const res = await runHandler(hook, { cri: this.deps.cri, containerId: id, container: c, podIP, timeoutSeconds: Math.max(1, grace) });
    if (res.result === 'success') return;
    const what = hook.exec ? `Exec lifecycle hook (${JSON.stringify(hook.exec.command ?? [])})` : `HTTP lifecycle hook (${hook.httpGet?.path ?? '/'})`;
    const message = `${what} for Container "${c.name}" in Pod "${this.name(pod)}(${this.uid})" failed - error: ${res.message}`;
    this.deps.events.event(pod, 'Warning', 'FailedPostStartHook', message);
    this.deps.events.event(pod, 'Normal', 'Killing', `FailedPostStartHook: container ${c.name} will be killed`);
    await this.deps.cri.stopContainer(id, grace);
    const policy = isSidecar(c) ? 'Always' : (pod.spec?.restartPolicy ?? 'Always');
    // Shown while it waits for its restart; a container that will not restart just shows its exit.
    if (policy !== 'Never') this.waiting.set(c.name, { reason: 'PostStartHookError', message });
    this.deps.log('info', 'postStart hook failed; container killed', { pod: this.name(pod), container: c.name, error: res.message });
  }

  // ---- probes ----

  private probeStates(c: Container, cur: ObservedContainer): Partial<Record<ProbeKind, ProbeState>> {
    let states = this.probes.get(cur.id);
    if (!states) {
      const started = cur.startedAt || this.deps.now();
      states = {
        ...(c.startupProbe ? { startup: new ProbeState('startup', c.startupProbe, started) } : {}),
        ...(c.livenessProbe ? { liveness: new ProbeState('liveness', c.livenessProbe, started) } : {}),
        ...(c.readinessProbe ? { readiness: new ProbeState('readiness', c.readinessProbe, started) } : {}),
      };
      this.probes.set(cur.id, states);
    }
    return states;
  }

  /** Runs the probes that are due; a failed liveness or startup probe kills the container. */
  private async probe(pod: Pod, c: Container, cur: ObservedContainer, podIP: string | undefined): Promise<boolean> {
    const states = this.probeStates(c, cur);
    const now = this.deps.now();
    const run = async (kind: ProbeKind) => {
      const state = states[kind]!;
      const probe = kind === 'startup' ? c.startupProbe! : kind === 'liveness' ? c.livenessProbe! : c.readinessProbe!;
      const { result, message } = await runHandler(probe, { cri: this.deps.cri, containerId: cur.id, container: c, podIP, timeoutSeconds: state.timeoutSeconds });
      if (result === 'failure') this.deps.events.event(pod, 'Warning', 'Unhealthy', `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: ${message}`);
      state.record(result, now);
      return state.result;
    };
    const startup = states.startup;
    if (startup && startup.result !== 'success') {
      if (!startup.due(now)) return false;
      await run('startup');
      if (startup.thresholdFailed()) return this.kill(pod, c, cur, 'failed startup probe, will be restarted');
      if ((startup.result as ProbeResult) !== 'success') return false;
    }
    if (states.liveness?.due(now) && (await run('liveness')) === 'failure') return this.kill(pod, c, cur, 'failed liveness probe, will be restarted');
    if (states.readiness?.due(now)) await run('readiness');
    return false;
  }

  private async kill(pod: Pod, c: Container, cur: ObservedContainer, why: string): Promise<boolean> {
    this.deps.events.event(pod, 'Normal', 'Killing', `Container ${c.name} ${why}`);
    await this.deps.cri.stopContainer(cur.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
    this.probes.delete(cur.id);
    return true;
  }

  /** Nothing to wait for: a ready sandbox, every init container done, every container (and sidecar) running. */
  private settled(pod: Pod, obs: Observed): boolean {
    if (!obs.ready || this.waiting.size > 0) return false;
    const newest = (c: Container) => obs.byName.get(c.name)?.[0];
    return (
      (pod.spec!.initContainers ?? []).every((c) => {
        const cur = newest(c);
        return isSidecar(c) ? cur?.state === 'running' : cur?.state === 'exited' && cur.exitCode === 0;
      }) && pod.spec!.containers.every((c) => newest(c)?.state === 'running')
    );
  }

  private nextWakeMs(settled: boolean): number {
    const now = this.deps.now();
    let next = now + (settled ? SETTLED_RESYNC_MS : ACTIVE_RESYNC_MS);
    for (const states of this.probes.values()) for (const s of Object.values(states)) next = Math.min(next, s.nextDueMs());
    return Math.max(50, next - now);
  }

  // ---- stopping ----

  private async terminate(pod: Pod | undefined, obs: Observed): Promise<void> {
    const { cri } = this.deps;
    const grace = pod?.metadata.deletionGracePeriodSeconds ?? pod?.spec?.terminationGracePeriodSeconds ?? Number(obs.sandboxes[0]?.annotations?.['io.kubernetes.pod.terminationGracePeriod'] ?? 30);
    // One grace period for the whole pod: main containers, then sidecars.
    await this.stopInOrder(pod, obs, grace, async (rc, spec) => {
      const name = rc.labels[Labels.containerName] ?? '';
      if (pod && spec?.lifecycle?.preStop) {
        const res = await runHandler(spec.lifecycle.preStop, { cri, containerId: rc.id, container: spec, podIP: pod.status?.podIP, timeoutSeconds: Math.max(1, grace) });
        if (res.result === 'failure') this.deps.events.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${res.message}`);
      }
      if (pod) this.deps.events.event(pod, 'Normal', 'Killing', `Stopping container ${name}`);
    });
    for (const s of obs.sandboxes) {
      await cri.stopPodSandbox(s.id);
      await cri.removePodSandbox(s.id);
    }
    for (const c of await cri.listContainers({ label_selector: { [Labels.podUid]: this.uid } })) await cri.removeContainer(c.id);
    removeCgroup(podCgroupParent(this.deps.settings, this.uid));
    rmSync(podDir(this.deps.settings.rootDir, this.uid), { recursive: true, force: true });
    if (pod) rmSync(podLogDir(this.deps.settings.rootDir, pod), { recursive: true, force: true });
    this.probes.clear();
    this.deps.serviceAccountTokens?.forget(this.uid);
    this.deps.crashBackoff.forgetPrefix(`${this.uid}/`);
    this.deps.pullBackoff.forgetPrefix(`${this.uid}/`);
  }

  // ---- status ----

  private async writeStatus(pod: Pod, obs: Observed): Promise<void> {
    // What each exited attempt left in its termination message file (or its log's tail).
    const dir = podDir(this.deps.settings.rootDir, this.uid);
    for (const c of [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]) {
      for (const oc of (obs.byName.get(c.name) ?? []).slice(0, 2)) {
        if (oc.state !== 'exited') continue;
        const logFile = join(podLogDir(this.deps.settings.rootDir, pod), containerLogPath(c.name, oc.attempt));
        oc.message = await terminationMessage(c, { attempt: oc.attempt, exitCode: oc.exitCode, runtimeMessage: oc.message }, { podDir: dir, logFile });
      }
    }
    const views = (containers: Container[]) =>
      new Map(
        containers.map((c): [string, ContainerView] => {
          const list = obs.byName.get(c.name) ?? [];
          const cur = list[0];
          const probes = cur ? this.probes.get(cur.id) : undefined;
          const waiting = this.waiting.get(c.name);
          return [
            c.name,
            {
              current: cur,
              previous: list[1],
              // A waiting reason only speaks for a container that is not running now.
              waiting: cur?.state === 'running' ? undefined : waiting,
              ready: !probes?.readiness || probes.readiness.result === 'success',
              started: !probes?.startup || probes.startup.result === 'success',
            },
          ];
        }),
      );
    const status = computePodStatus(
      pod,
      { podIP: pod.spec?.hostNetwork ? this.deps.hostIP() : obs.podIP, hostIP: this.deps.hostIP(), startTime: this.startTime, init: views(pod.spec!.initContainers ?? []), containers: views(pod.spec!.containers) },
      this.deps.now(),
    );
    const text = JSON.stringify(status);
    if (text === this.lastStatus) return;
    this.sentStatus = canonicalJson(status);
    await this.deps.client.pods(pod.metadata.namespace).patch(pod.metadata.name!, 'merge', { status }, { subresource: 'status' });
    this.deps.log('debug', 'status written', { pod: this.name(pod), phase: status.phase });
    this.lastStatus = text;
  }

  /** The sources, with the API objects fetched now or, when given, fetched while the sandbox started. */
  private async fetchSources(pod: Pod, podIP: string | undefined, prefetched?: Promise<Settled<ApiObjects>>): Promise<VolumeSources> {
    const early = prefetched && (await prefetched);
    // A failure of the early fetch is not reported: fetch again, as without it.
    const objects = early && 'value' in early ? early.value : await this.fetchObjects(pod);
    return { ...objects, podIP, hostIP: this.deps.hostIP() };
  }

  /** ConfigMaps, Secrets and ServiceAccount tokens the pod's env and volumes refer to. */
  private async fetchObjects(pod: Pod): Promise<ApiObjects> {
    const refs = referencedObjects(pod);
    const ns = pod.metadata.namespace;
    const configMaps = new Map<string, Record<string, string>>();
    const secrets = new Map<string, Record<string, string>>();
    const secretBytes = new Map<string, Record<string, Uint8Array>>();
    const get = async <T>(fn: () => Promise<T>) => {
      try {
        return await fn();
      } catch (err) {
        if ((err as ApiError).reason === 'NotFound') return undefined;
        throw err;
      }
    };
    for (const name of refs.configMaps) {
      const cm = await get(() => this.deps.client.configMaps(ns).get(name));
      if (cm) configMaps.set(name, { ...cm.data, ...Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(base64Decode(v) ?? []).toString()])) });
    }
    for (const name of refs.secrets) {
      const s = await get(() => this.deps.client.secrets(ns).get(name));
      if (!s) continue;
      const bytes = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, base64Decode(v) ?? new Uint8Array()]));
      secretBytes.set(name, bytes);
      secrets.set(name, Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, Buffer.from(v).toString()])));
    }
    const serviceAccountTokens = new Map<string, string>();
    for (const p of serviceAccountTokenProjections(pod)) {
      const key = serviceAccountTokenKey(p);
      if (serviceAccountTokens.has(key)) continue;
      if (!this.deps.serviceAccountTokens) throw new ConfigError('this agent cannot request ServiceAccount tokens');
      try {
        serviceAccountTokens.set(key, await this.deps.serviceAccountTokens.token(pod, p));
      } catch (err) {
        // As kubelet's FailedMount: the pod waits and the next sync asks again.
        throw new ConfigError(`failed to fetch token: ${(err as Error).message}`);
      }
    }
    return { configMaps, secrets, secretBytes, serviceAccountTokens };
  }

  /**
   * The informer's event for the pod's own status write: nothing but the status (and the
   * resource version) changed, to exactly what this worker sent. Syncing for it would find
   * nothing to do; any other change, anyone else's status write included, is no echo.
   */
  isOwnStatusEcho(prev: Pod | undefined, next: Pod): boolean {
    if (!prev || !this.sentStatus || canonicalJson(next.status) !== this.sentStatus) return false;
    const rest = (p: Pod) => canonicalJson({ ...p, status: undefined, metadata: { ...p.metadata, resourceVersion: undefined, managedFields: undefined } });
    return rest(prev) === rest(next);
  }

  private name(pod: Pod): string {
    return `${pod.metadata.name}_${pod.metadata.namespace}`;
  }
}
