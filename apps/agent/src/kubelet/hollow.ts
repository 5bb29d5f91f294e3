// HollowRuntime: a container runtime in memory, for hollow nodes (--hollow: hundreds of
// nodes on one machine for control-plane scale tests, nothing is run) and for unit tests of
// the pod worker. It keeps the CRI semantics the kubelet depends on: sandboxes and
// containers with ids, labels, attempts and states; NotFound for unknown ids; stop and
// remove idempotent; removing a sandbox removes its containers; pod IPs from the pod CIDR.
// A container runs until stopped, unless `behaviour` says it exits by itself (tests).
import { randomBytes } from 'node:crypto';
import {
  CriError,
  type Container__Output,
  type ContainerConfig,
  type ContainerFilter,
  type ContainerStatusResponse__Output,
  type ExecSyncResponse__Output,
  type Image__Output,
  type PodSandbox__Output,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxStatusResponse__Output,
  type RuntimeConditions,
  type VersionResponse__Output,
} from '@keel/cri';
import type { Runtime } from './runtime';

export interface HollowBehaviour {
  /** The container exits this long after it starts (absent: runs until stopped). */
  exitAfterMs?: number;
  exitCode?: number;
}

export interface HollowOptions {
  now?: () => number;
  /** How a container behaves, from its config (default: runs until stopped). */
  behaviour?: (config: ContainerConfig) => HollowBehaviour;
  /** Whether an image can be pulled (default: every image). */
  pullable?: (image: string) => boolean;
}

interface Sandbox {
  id: string;
  config: PodSandboxConfig;
  ready: boolean;
  createdAt: number;
  ip: string;
}

interface HollowContainer {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED';
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  behaviour: HollowBehaviour;
}

const ns = (ms: number) => (ms ? `${BigInt(ms) * 1_000_000n}` : '0');
const newId = () => randomBytes(32).toString('hex');

function matches(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export class HollowRuntime implements Runtime {
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, HollowContainer>();
  private readonly images = new Set<string>();
  private podCidr = '10.255.0.0/16';
  private nextHost = 2;
  private readonly now: () => number;

  constructor(private readonly opts: HollowOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Ends a running container as if its process exited (tests). */
  exit(id: string, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): void {
    const c = this.containers.get(id);
    if (!c || c.state !== 'CONTAINER_RUNNING') return;
    Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: this.now(), exitCode, reason });
  }

  /** Applies `behaviour` exits that are due. */
  private tick(): void {
    const now = this.now();
    for (const c of this.containers.values()) {
      if (c.state === 'CONTAINER_RUNNING' && c.behaviour.exitAfterMs !== undefined && now >= c.startedAt + c.behaviour.exitAfterMs) {
        const code = c.behaviour.exitCode ?? 0;
        Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: c.startedAt + c.behaviour.exitAfterMs, exitCode: code, reason: code === 0 ? 'Completed' : 'Error' });
      }
    }
  }

  private sandbox(id: string, method: string): Sandbox {
    const s = this.sandboxes.get(id);
    if (!s) throw new CriError('NotFound', `an error occurred when try to find sandbox "${id}": not found`, method);
    return s;
  }

  private container(id: string, method: string): HollowContainer {
    this.tick();
    const c = this.containers.get(id);
    if (!c) throw new CriError('NotFound', `an error occurred when try to find container "${id}": not found`, method);
    return c;
  }

  async version(): Promise<VersionResponse__Output> {
    return { version: '0.1.0', runtime_name: 'hollow', runtime_version: '0.1.0', runtime_api_version: 'v1' };
  }

  async conditions(): Promise<RuntimeConditions> {
    return { RuntimeReady: true, NetworkReady: true, all: {} };
  }

  async updatePodCidr(podCidr: string): Promise<void> {
    this.podCidr = podCidr;
  }

  private allocateIp(): string {
    const [base, prefix] = this.podCidr.split('/') as [string, string];
    const n = base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + this.nextHost++;
    if (this.nextHost >= 2 ** (32 - Number(prefix)) - 1) this.nextHost = 2;
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = newId();
    this.sandboxes.set(id, { id, config, ready: true, createdAt: this.now(), ip: this.allocateIp() });
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const s = this.sandboxes.get(id);
    if (!s) return;
    s.ready = false;
    for (const c of this.containers.values()) if (c.sandboxId === id && c.state === 'CONTAINER_RUNNING') this.exit(c.id, 137);
  }

  async removePodSandbox(id: string): Promise<void> {
    this.sandboxes.delete(id);
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) this.containers.delete(c.id);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatusResponse__Output> {
    const s = this.sandbox(id, 'PodSandboxStatus');
    return { status: { ...this.listed(s), network: { ip: s.ready ? s.ip : '', additional_ips: [] } }, info: {}, containers_statuses: [], timestamp: ns(this.now()) } as unknown as PodSandboxStatusResponse__Output;
  }

  private listed(s: Sandbox): PodSandbox__Output {
    return {
      id: s.id,
      metadata: { name: s.config.metadata?.name ?? '', uid: s.config.metadata?.uid ?? '', namespace: s.config.metadata?.namespace ?? '', attempt: s.config.metadata?.attempt ?? 0 },
      state: s.ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
      created_at: ns(s.createdAt),
      labels: { ...s.config.labels },
      annotations: { ...s.config.annotations },
      runtime_handler: '',
    };
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox__Output[]> {
    return [...this.sandboxes.values()]
      .filter((s) => (!filter?.id || s.id === filter.id) && (!filter?.state || (filter.state.state === 'SANDBOX_READY') === s.ready) && matches(s.config.labels ?? {}, filter?.label_selector))
      .map((s) => this.listed(s));
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const s = this.sandbox(sandboxId, 'CreateContainer');
    if (!s.ready) throw new CriError('FailedPrecondition', `sandbox ${sandboxId} is not ready`, 'CreateContainer');
    const id = newId();
    this.containers.set(id, { id, sandboxId, config, state: 'CONTAINER_CREATED', createdAt: this.now(), startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', behaviour: this.opts.behaviour?.(config) ?? {} });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.container(id, 'StartContainer');
    if (c.state !== 'CONTAINER_CREATED') throw new CriError('FailedPrecondition', `container ${id} is not in created state`, 'StartContainer');
    Object.assign(c, { state: 'CONTAINER_RUNNING', startedAt: this.now() });
  }

  async stopContainer(id: string): Promise<void> {
    if (!this.containers.has(id)) return;
    this.exit(id, 137);
  }

  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
  }

  private listedContainer(c: HollowContainer): Container__Output {
    return {
      id: c.id,
      pod_sandbox_id: c.sandboxId,
      metadata: { name: c.config.metadata?.name ?? '', attempt: c.config.metadata?.attempt ?? 0 },
      image: { image: c.config.image?.image ?? '', annotations: {}, user_specified_image: '', runtime_handler: '' },
      image_ref: `sha256:hollow-${c.config.image?.image ?? ''}`,
      state: c.state,
      created_at: ns(c.createdAt),
      labels: { ...c.config.labels },
      annotations: { ...c.config.annotations },
      image_id: '',
    };
  }

  async listContainers(filter?: ContainerFilter): Promise<Container__Output[]> {
    this.tick();
    return [...this.containers.values()]
      .filter(
        (c) =>
          (!filter?.id || c.id === filter.id) &&
          (!filter?.pod_sandbox_id || c.sandboxId === filter.pod_sandbox_id) &&
          (!filter?.state || filter.state.state === c.state) &&
          matches(c.config.labels ?? {}, filter?.label_selector),
      )
      .map((c) => this.listedContainer(c));
  }

  async containerStatus(id: string): Promise<ContainerStatusResponse__Output> {
    const c = this.container(id, 'ContainerStatus');
    const listed = this.listedContainer(c);
    return {
      status: {
        ...listed,
        started_at: ns(c.startedAt),
        finished_at: ns(c.finishedAt),
        exit_code: c.exitCode,
        reason: c.reason,
        message: '',
        mounts: [],
        log_path: c.config.log_path ?? '',
      },
      info: {},
    } as unknown as ContainerStatusResponse__Output;
  }

  async execSync(id: string): Promise<ExecSyncResponse__Output> {
    const c = this.container(id, 'ExecSync');
    if (c.state !== 'CONTAINER_RUNNING') throw new CriError('Unknown', 'container is not running', 'ExecSync');
    return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exit_code: 0 };
  }

  async exec(): Promise<string> {
    throw new CriError('Unimplemented', 'a hollow node runs no processes', 'Exec');
  }

  async attach(): Promise<string> {
    throw new CriError('Unimplemented', 'a hollow node runs no processes', 'Attach');
  }

  async portForward(): Promise<string> {
    throw new CriError('Unimplemented', 'a hollow node runs no processes', 'PortForward');
  }

  async imageStatus(image: string): Promise<Image__Output | null> {
    return this.images.has(image) ? ({ id: `sha256:hollow-${image}`, repo_tags: [image], repo_digests: [], size: '0', uid: null, username: '', spec: null, pinned: false } as unknown as Image__Output) : null;
  }

  async pullImage(image: string): Promise<string> {
    if (this.opts.pullable && !this.opts.pullable(image)) throw new CriError('NotFound', `failed to resolve reference "${image}": not found`, 'PullImage');
    this.images.add(image);
    return `sha256:hollow-${image}`;
  }

  async reopenContainerLog(): Promise<void> {
    // No log files on a hollow node: nothing to reopen.
  }
}
