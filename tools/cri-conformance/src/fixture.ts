// What a case works with: the CRI client, the images, and helpers that create pods and
// containers the way the node agent does (labels naming this run, a log directory under
// the suite's own folder, a cgroup parent under the run's own cgroup). Every sandbox a
// case creates is recorded in the case's scope and removed when the case ends; the
// suite's final sweep removes anything labelled with the run that is still there.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CriClient,
  CriError,
  type ContainerConfig,
  type ContainerState__Output,
  type ContainerStatus__Output,
  type LinuxContainerConfig,
  type PodSandboxConfig,
} from '@keel/cri';
import { CheckFailed } from './errors';

export interface ConformanceImages {
  /** A busybox image with sh, sleep, wget, id, stty, head, tr (keel/busybox). */
  busybox: string;
  /** An HTTP server on :8080 answering "hello from keel" (keel/web). */
  web: string;
  /** Exits 0 after a second (keel/job-ok). */
  jobOk: string;
  /** Exits 1 after a second (keel/job-fail). */
  jobFail: string;
  /** Exits 2 after $CRASH_AFTER seconds (keel/crasher). */
  crasher: string;
  /** A reference that does not exist in the registry. */
  missing: string;
}

/** Images from a registry prefix such as 127.0.0.1:5000/keel. */
export function imagesFromPrefix(prefix: string, busyboxTag = '1.35'): ConformanceImages {
  const p = prefix.replace(/\/+$/, '');
  return {
    busybox: `${p}/busybox:${busyboxTag}`,
    web: `${p}/web:1.0`,
    jobOk: `${p}/job-ok:1.0`,
    jobFail: `${p}/job-fail:1.0`,
    crasher: `${p}/crasher:1.0`,
    missing: `${p}/keel-conformance-missing:0`,
  };
}

export interface FixtureOptions {
  endpoint: string;
  images: ConformanceImages;
  /** Labels and names carry it, so the final sweep finds this run's leftovers. */
  runId: string;
  /** The suite's folder (logs go under it); named keel-…. */
  workDir: string;
  /** The cgroup every pod of this run goes under, e.g. /keel-cri-conformance-<run>. */
  cgroupParent: string;
  /** The node's pod CIDR, when known: pod IPs are checked to be inside it. */
  podCidr?: string;
  /** The host address port mappings bind to (127.0.0.1). */
  hostIp: string;
  /** Default deadline of a CRI call (ms). */
  callTimeoutMs: number;
}

export const RUN_LABEL = 'io.keel.conformance/run';
export const CASE_LABEL = 'io.keel.conformance/case';

export interface Pod {
  id: string;
  config: PodSandboxConfig;
  ip: string;
}

export interface ContainerOptions {
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
  labels?: Record<string, string>;
  /** Create only; do not start. */
  createOnly?: boolean;
}

export interface ExecOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The root fixture holds the client; `scope()` gives each case its own record of what it made. */
export class Fixture {
  private readonly sandboxes = new Set<string>();
  private counter = 0;

  constructor(
    readonly client: CriClient,
    readonly opts: FixtureOptions,
    readonly caseName = '',
    private readonly shared: { seq: number } = { seq: 0 },
  ) {}

  static create(opts: FixtureOptions): Fixture {
    return new Fixture(new CriClient(opts.endpoint, { timeoutMs: opts.callTimeoutMs, pullTimeoutMs: 60_000 }), opts);
  }

  scope(caseName: string): Fixture {
    return new Fixture(this.client, this.opts, caseName, this.shared);
  }

  get images(): ConformanceImages {
    return this.opts.images;
  }

  private slug(): string {
    return (this.caseName || 'suite').replace(/[^a-z0-9-]+/gi, '-').toLowerCase().slice(0, 40);
  }

  /** A sandbox config as the agent would write it; `extra` overrides or adds fields. */
  sandboxConfig(extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
    const n = ++this.shared.seq;
    const name = `${this.slug()}-${++this.counter}`;
    const uid = `${this.opts.runId}-${n}`;
    const logDir = join(this.opts.workDir, 'logs', `keel-conformance_${name}_${uid}`);
    mkdirSync(logDir, { recursive: true });
    const base: PodSandboxConfig = {
      metadata: { name, uid, namespace: 'keel-conformance', attempt: 0 },
      hostname: name.slice(0, 63),
      log_directory: logDir,
      // A resolver on the pod's own loopback: nothing the suite does ever leaves the machine.
      dns_config: { servers: ['127.0.0.53'], searches: ['keel-conformance.svc.keel.local'], options: ['ndots:5'] },
      labels: { [RUN_LABEL]: this.opts.runId, [CASE_LABEL]: this.slug() },
      annotations: { 'io.keel.conformance/note': 'created by tools/cri-conformance' },
      linux: { cgroup_parent: `${this.opts.cgroupParent}/pod${uid}` },
    };
    return { ...base, ...extra, labels: { ...base.labels, ...extra.labels }, linux: { ...base.linux, ...extra.linux } };
  }

  /** Runs a sandbox and records it for removal; answers its ID, config and IP. */
  async runPod(extra: Partial<PodSandboxConfig> = {}): Promise<Pod> {
    const config = this.sandboxConfig(extra);
    const id = await this.client.runPodSandbox(config);
    this.sandboxes.add(id);
    const status = await this.client.podSandboxStatus(id);
    return { id, config, ip: status.status?.network?.ip ?? '' };
  }

  /** Records a sandbox created outside runPod, so the case's cleanup removes it. */
  track(sandboxId: string): void {
    this.sandboxes.add(sandboxId);
  }

  /** Pulls the image if the runtime does not have it. */
  async ensureImage(image: string): Promise<void> {
    if (await this.client.imageStatus(image)) return;
    await this.client.pullImage(image);
  }

  /** Creates (and normally starts) a container in a pod; its log goes to `<name>.log`. */
  async container(pod: Pod, name: string, image: string, o: ContainerOptions = {}): Promise<string> {
    await this.ensureImage(image);
    const config: ContainerConfig = {
      metadata: { name, attempt: 0 },
      image: { image },
      command: o.command ?? [],
      args: o.args ?? [],
      envs: Object.entries(o.env ?? {}).map(([key, value]) => ({ key, value })),
      log_path: `${name}.log`,
      stdin: o.stdin ?? false,
      stdin_once: o.stdinOnce ?? false,
      tty: o.tty ?? false,
      labels: { [RUN_LABEL]: this.opts.runId, ...o.labels },
      linux: o.linux ?? {},
    };
    const id = await this.client.createContainer(pod.id, config, pod.config);
    if (!o.createOnly) await this.client.startContainer(id);
    return id;
  }

  logPath(pod: Pod, name: string): string {
    return join(pod.config.log_directory ?? '', `${name}.log`);
  }

  async status(containerId: string): Promise<ContainerStatus__Output> {
    const res = await this.client.containerStatus(containerId);
    if (!res.status) throw new CheckFailed(`ContainerStatus for ${containerId.slice(0, 12)} answered no status`);
    return res.status;
  }

  /** Polls until the container reaches `state`; fails with the last status seen. */
  async waitForState(containerId: string, state: ContainerState__Output, timeoutMs: number): Promise<ContainerStatus__Output> {
    const deadline = Date.now() + timeoutMs;
    let last: ContainerStatus__Output | undefined;
    while (Date.now() < deadline) {
      last = await this.status(containerId);
      if (last.state === state) return last;
      await sleep(100);
    }
    throw new CheckFailed(`container did not reach ${state} within ${timeoutMs} ms (last: ${last?.state} ${last?.reason} ${last?.message})`);
  }

  /** Polls `probe` until it answers true (or something truthy). */
  async waitUntil<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value) return value;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      await sleep(100);
    }
    throw new CheckFailed(`${what} within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}`);
  }

  async exec(containerId: string, cmd: string[], timeoutSeconds = 10): Promise<ExecOutput> {
    const res = await this.client.execSync(containerId, cmd, timeoutSeconds);
    return { stdout: res.stdout.toString('utf8'), stderr: res.stderr.toString('utf8'), exitCode: res.exit_code };
  }

  /** Removes this scope's sandboxes (and so their containers); answers what it could not remove. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      [...this.sandboxes].map(async (id) => {
        try {
          await this.client.stopPodSandbox(id, { timeoutMs: 30_000 });
          await this.client.removePodSandbox(id, { timeoutMs: 30_000 });
          this.sandboxes.delete(id);
        } catch (err) {
          problems.push(`sandbox ${id.slice(0, 12)}: ${err instanceof CriError ? err.message : String(err)}`);
        }
      }),
    );
    return problems;
  }
}
