// A typed client for a CRI runtime (runtime.v1 RuntimeService and ImageService) over
// a unix socket. It owns the rules the node agent relies on:
//  - every call carries a deadline (a hung runtime must never hang the agent);
//  - errors are CriErrors with a code;
//  - the calls CRI defines as idempotent (StopPodSandbox, RemovePodSandbox,
//    StopContainer, RemoveContainer, RemoveImage) treat NotFound as done, because
//    runtimes differ in whether they answer NotFound for something already gone;
//  - int64 nanosecond fields stay decimal strings (see time.ts) and zero-valued enums and
//    fields are present (the shared loader's `defaults: true`).
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/api';
import type { AttachRequest } from '@keel/protos/runtime/v1/AttachRequest';
import type { ContainerConfig } from '@keel/protos/runtime/v1/ContainerConfig';
import type { ContainerFilter } from '@keel/protos/runtime/v1/ContainerFilter';
import type { Container__Output } from '@keel/protos/runtime/v1/Container';
import type { ContainerStats__Output } from '@keel/protos/runtime/v1/ContainerStats';
import type { ContainerStatsFilter } from '@keel/protos/runtime/v1/ContainerStatsFilter';
import type { ContainerStatusResponse__Output } from '@keel/protos/runtime/v1/ContainerStatusResponse';
import type { ExecRequest } from '@keel/protos/runtime/v1/ExecRequest';
import type { ExecSyncResponse__Output } from '@keel/protos/runtime/v1/ExecSyncResponse';
import type { ImageFsInfoResponse__Output } from '@keel/protos/runtime/v1/ImageFsInfoResponse';
import type { ImageFilter } from '@keel/protos/runtime/v1/ImageFilter';
import type { Image__Output } from '@keel/protos/runtime/v1/Image';
import type { AuthConfig } from '@keel/protos/runtime/v1/AuthConfig';
import type { ImageServiceClient } from '@keel/protos/runtime/v1/ImageService';
import type { LinuxContainerResources } from '@keel/protos/runtime/v1/LinuxContainerResources';
import type { PodSandbox__Output } from '@keel/protos/runtime/v1/PodSandbox';
import type { PodSandboxConfig } from '@keel/protos/runtime/v1/PodSandboxConfig';
import type { PodSandboxFilter } from '@keel/protos/runtime/v1/PodSandboxFilter';
import type { PodSandboxStatusResponse__Output } from '@keel/protos/runtime/v1/PodSandboxStatusResponse';
import type { RuntimeServiceClient } from '@keel/protos/runtime/v1/RuntimeService';
import type { StatusResponse__Output } from '@keel/protos/runtime/v1/StatusResponse';
import type { VersionResponse__Output } from '@keel/protos/runtime/v1/VersionResponse';
import { CriError } from './errors';

export interface CriClientOptions {
  /** Default deadline for a call, in milliseconds (10 s). */
  timeoutMs?: number;
  /** Deadline for PullImage, which downloads (5 min). */
  pullTimeoutMs?: number;
}

/** Per-call options: a deadline other than the client's default. */
export interface CallOptions {
  timeoutMs?: number;
}

/** What CRI answers for a condition type; `RuntimeReady` and `NetworkReady` matter. */
export interface RuntimeConditions {
  RuntimeReady: boolean;
  NetworkReady: boolean;
  /** Every condition by type, with its reason and message for error reports. */
  all: Record<string, { status: boolean; reason: string; message: string }>;
}

const MiB16 = 16 * 1024 * 1024;

let cachedProto: ProtoGrpcType | undefined;
function proto(): ProtoGrpcType {
  return (cachedProto ??= loadProto<ProtoGrpcType>('cri/api.proto'));
}

/**
 * Accepts `unix:///abs/path` (what gRPC needs) or a bare absolute path, which gRPC would
 * try to resolve as a DNS name; anything else is refused up front.
 */
export function normalizeEndpoint(endpoint: string): string {
  if (endpoint.startsWith('unix:///')) return endpoint;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  if (endpoint.startsWith('unix://')) {
    throw new CriError('InvalidArgument', `endpoint ${endpoint} must be an absolute path: unix:///abs/path`);
  }
  throw new CriError('InvalidArgument', `endpoint ${endpoint} is not a unix socket (unix:///abs/path)`);
}

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type AnyUnary = (req: unknown, opts: grpc.CallOptions, cb: Callback<unknown>) => grpc.ClientUnaryCall;

export class CriClient {
  readonly endpoint: string;
  private readonly runtime: RuntimeServiceClient;
  private readonly images: ImageServiceClient;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(endpoint: string, options: CriClientOptions = {}) {
    this.endpoint = normalizeEndpoint(endpoint);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.pullTimeoutMs = options.pullTimeoutMs ?? 300_000;
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': MiB16,
      'grpc.max_send_message_length': MiB16,
    };
    const { RuntimeService, ImageService } = proto().runtime.v1;
    const creds = grpc.credentials.createInsecure();
    this.runtime = new RuntimeService(this.endpoint, creds, channelOptions);
    this.images = new ImageService(this.endpoint, creds, channelOptions);
  }

  close(): void {
    this.runtime.close();
    this.images.close();
  }

  // ---- the one place a call is made ----

  private call<Res>(
    service: 'runtime' | 'images',
    method: string,
    request: object,
    timeoutMs: number,
  ): Promise<Res> {
    const client = (service === 'runtime' ? this.runtime : this.images) as unknown as Record<string, AnyUnary>;
    const fn = client[method];
    if (!fn) return Promise.reject(new CriError('Unimplemented', 'no such method in the proto', method));
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(CriError.fromGrpc(method, err));
        else resolve(res as Res);
      });
    });
  }

  private rt<Res>(method: string, request: object, opts?: CallOptions): Promise<Res> {
    return this.call<Res>('runtime', method, request, opts?.timeoutMs ?? this.timeoutMs);
  }

  private img<Res>(method: string, request: object, opts?: CallOptions): Promise<Res> {
    return this.call<Res>('images', method, request, opts?.timeoutMs ?? this.timeoutMs);
  }

  /** Runs an idempotent call, taking NotFound as "already done". */
  private async idempotent(method: string, request: object, opts?: CallOptions): Promise<void> {
    try {
      await this.rt(method, request, opts);
    } catch (err) {
      if (CriError.is(err, 'NotFound')) return;
      throw err;
    }
  }

  // ---- runtime ----

  version(opts?: CallOptions): Promise<VersionResponse__Output> {
    return this.rt('Version', { version: 'v1' }, opts);
  }

  status(verbose = false, opts?: CallOptions): Promise<StatusResponse__Output> {
    return this.rt('Status', { verbose }, opts);
  }

  /** The runtime's conditions by type, RuntimeReady and NetworkReady first-class. */
  async conditions(opts?: CallOptions): Promise<RuntimeConditions> {
    const res = await this.status(false, opts);
    const all: RuntimeConditions['all'] = {};
    for (const c of res.status?.conditions ?? []) all[c.type] = { status: c.status, reason: c.reason, message: c.message };
    return { RuntimeReady: all['RuntimeReady']?.status ?? false, NetworkReady: all['NetworkReady']?.status ?? false, all };
  }

  updatePodCidr(podCidr: string, opts?: CallOptions): Promise<void> {
    return this.rt('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: podCidr } } }, opts);
  }

  // ---- sandboxes ----

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = '', opts?: CallOptions): Promise<string> {
    // Sandbox start includes CNI setup and maybe a pause-image pull: give it more time.
    const res = await this.rt<{ pod_sandbox_id: string }>(
      'RunPodSandbox',
      { config, runtime_handler: runtimeHandler },
      { timeoutMs: opts?.timeoutMs ?? Math.max(this.timeoutMs, 60_000) },
    );
    return res.pod_sandbox_id;
  }

  stopPodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    return this.idempotent('StopPodSandbox', { pod_sandbox_id: podSandboxId }, opts);
  }

  removePodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    return this.idempotent('RemovePodSandbox', { pod_sandbox_id: podSandboxId }, opts);
  }

  podSandboxStatus(podSandboxId: string, verbose = false, opts?: CallOptions): Promise<PodSandboxStatusResponse__Output> {
    return this.rt('PodSandboxStatus', { pod_sandbox_id: podSandboxId, verbose }, opts);
  }

  async listPodSandbox(filter?: PodSandboxFilter, opts?: CallOptions): Promise<PodSandbox__Output[]> {
    const res = await this.rt<{ items: PodSandbox__Output[] }>('ListPodSandbox', filter ? { filter } : {}, opts);
    return res.items;
  }

  // ---- containers ----

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
    opts?: CallOptions,
  ): Promise<string> {
    const res = await this.rt<{ container_id: string }>(
      'CreateContainer',
      { pod_sandbox_id: podSandboxId, config, sandbox_config: sandboxConfig },
      opts,
    );
    return res.container_id;
  }

  startContainer(containerId: string, opts?: CallOptions): Promise<void> {
    return this.rt('StartContainer', { container_id: containerId }, opts);
  }

  /** Stops with `timeoutSeconds` of grace; the call's deadline is that plus the client default. */
  stopContainer(containerId: string, timeoutSeconds: number, opts?: CallOptions): Promise<void> {
    const deadline = opts?.timeoutMs ?? timeoutSeconds * 1000 + this.timeoutMs;
    return this.idempotent('StopContainer', { container_id: containerId, timeout: String(timeoutSeconds) }, { timeoutMs: deadline });
  }

  removeContainer(containerId: string, opts?: CallOptions): Promise<void> {
    return this.idempotent('RemoveContainer', { container_id: containerId }, opts);
  }

  async listContainers(filter?: ContainerFilter, opts?: CallOptions): Promise<Container__Output[]> {
    const res = await this.rt<{ containers: Container__Output[] }>('ListContainers', filter ? { filter } : {}, opts);
    return res.containers;
  }

  containerStatus(containerId: string, verbose = false, opts?: CallOptions): Promise<ContainerStatusResponse__Output> {
    return this.rt('ContainerStatus', { container_id: containerId, verbose }, opts);
  }

  updateContainerResources(containerId: string, linux: LinuxContainerResources, opts?: CallOptions): Promise<void> {
    return this.rt('UpdateContainerResources', { container_id: containerId, linux }, opts);
  }

  reopenContainerLog(containerId: string, opts?: CallOptions): Promise<void> {
    return this.rt('ReopenContainerLog', { container_id: containerId }, opts);
  }

  async containerStats(containerId: string, opts?: CallOptions): Promise<ContainerStats__Output | null> {
    const res = await this.rt<{ stats: ContainerStats__Output | null }>('ContainerStats', { container_id: containerId }, opts);
    return res.stats;
  }

  async listContainerStats(filter?: ContainerStatsFilter, opts?: CallOptions): Promise<ContainerStats__Output[]> {
    const res = await this.rt<{ stats: ContainerStats__Output[] }>('ListContainerStats', filter ? { filter } : {}, opts);
    return res.stats;
  }

  // ---- exec, attach, port-forward ----

  /**
   * Runs a command to completion. `timeoutSeconds` is the runtime's own limit (it kills
   * the command); the call's deadline is a little longer so the runtime's answer wins.
   * A timeout must be given: 0 means "forever" in CRI, which the agent never wants.
   */
  execSync(containerId: string, cmd: string[], timeoutSeconds: number, opts?: CallOptions): Promise<ExecSyncResponse__Output> {
    if (!(timeoutSeconds > 0)) throw new CriError('InvalidArgument', 'timeoutSeconds must be > 0', 'ExecSync');
    const deadline = opts?.timeoutMs ?? timeoutSeconds * 1000 + 5_000;
    return this.rt('ExecSync', { container_id: containerId, cmd, timeout: String(timeoutSeconds) }, { timeoutMs: deadline });
  }

  /** A single-use URL on the runtime's stream server; open it at once (stream.ts). */
  async exec(request: ExecRequest, opts?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('Exec', request, opts)).url;
  }

  async attach(request: AttachRequest, opts?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('Attach', request, opts)).url;
  }

  async portForward(podSandboxId: string, ports: number[], opts?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('PortForward', { pod_sandbox_id: podSandboxId, port: ports }, opts)).url;
  }

  // ---- images ----

  async listImages(filter?: ImageFilter, opts?: CallOptions): Promise<Image__Output[]> {
    const res = await this.img<{ images: Image__Output[] }>('ListImages', filter ? { filter } : {}, opts);
    return res.images;
  }

  /** The image, or null when the runtime does not have it (CRI answers an empty image). */
  async imageStatus(image: string, opts?: CallOptions): Promise<Image__Output | null> {
    const res = await this.img<{ image: Image__Output | null }>('ImageStatus', { image: { image } }, opts);
    return res.image && res.image.id ? res.image : null;
  }

  /** Pulls and answers the image reference (its ID) the runtime will use. */
  async pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, opts?: CallOptions): Promise<string> {
    const req: Record<string, unknown> = { image: { image } };
    if (auth) req['auth'] = auth;
    if (sandboxConfig) req['sandbox_config'] = sandboxConfig;
    const res = await this.img<{ image_ref: string }>('PullImage', req, { timeoutMs: opts?.timeoutMs ?? this.pullTimeoutMs });
    return res.image_ref;
  }

  async removeImage(image: string, opts?: CallOptions): Promise<void> {
    try {
      await this.img('RemoveImage', { image: { image } }, opts);
    } catch (err) {
      if (CriError.is(err, 'NotFound')) return;
      throw err;
    }
  }

  imageFsInfo(opts?: CallOptions): Promise<ImageFsInfoResponse__Output> {
    return this.img('ImageFsInfo', {}, opts);
  }
}
