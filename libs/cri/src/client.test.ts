// The client against an in-process fake runtime on a unix socket: what a real runtime
// sends on the wire (zero-valued enums omitted, int64 beyond 2^53, NotFound for things
// already gone, a call that never answers) and what the client makes of it.
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient, normalizeEndpoint } from './client';
import { CriError } from './errors';
import { nanos, nanosToDate } from './time';

type Impl = grpc.UntypedServiceImplementation;
const notFound = (cb: grpc.sendUnaryData<unknown>, what: string) =>
  cb({ code: grpc.status.NOT_FOUND, details: `an ${what} was not found`, name: 'NotFound', message: '' } as grpc.ServiceError, null);

describe('CriClient', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-cri-client-'));
  const socket = join(dir, 'cri.sock');
  const server = new grpc.Server();
  let client: CriClient;
  const calls: string[] = [];

  beforeAll(async () => {
    const proto = loadProto<ProtoGrpcType>('cri/api.proto');
    const runtime: Impl = {
      Version: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { version: '0.1.0', runtime_name: 'fake', runtime_version: '1', runtime_api_version: 'v1' }),
      Status: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { status: { conditions: [{ type: 'RuntimeReady', status: true }, { type: 'NetworkReady', status: false, reason: 'NoCNI', message: 'cni not ready' }] } }),
      ContainerStatus: (call: grpc.ServerUnaryCall<{ container_id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (call.request.container_id === 'gone') return notFound(cb, 'container');
        // CONTAINER_CREATED and exit_code 0 are zero values: absent on the wire.
        cb(null, { status: { id: call.request.container_id, state: 'CONTAINER_CREATED', created_at: '1795618242336150802', exit_code: 0 } });
      },
      StopPodSandbox: (call: grpc.ServerUnaryCall<{ pod_sandbox_id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        calls.push(`StopPodSandbox ${call.request.pod_sandbox_id}`);
        notFound(cb, 'sandbox');
      },
      RemovePodSandbox: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => notFound(cb, 'sandbox'),
      StopContainer: (call: grpc.ServerUnaryCall<{ timeout: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        calls.push(`StopContainer timeout=${call.request.timeout}`);
        notFound(cb, 'container');
      },
      RemoveContainer: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => notFound(cb, 'container'),
      PodSandboxStatus: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => notFound(cb, 'sandbox'),
      ListPodSandbox: (call: grpc.ServerUnaryCall<{ filter: { state: { state: string } | null } | null }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        calls.push(`ListPodSandbox state=${call.request.filter?.state?.state ?? 'none'}`);
        cb(null, { items: [{ id: 's1', state: 'SANDBOX_READY', created_at: '1' }] });
      },
      // Never answers: the client's deadline must end the call.
      ExecSync: () => undefined,
    };
    const images: Impl = {
      ImageStatus: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
      RemoveImage: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => notFound(cb, 'image'),
    };
    server.addService(proto.runtime.v1.RuntimeService.service, runtime);
    server.addService(proto.runtime.v1.ImageService.service, images);
    await new Promise<void>((ok, fail) =>
      server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? fail(err) : ok())),
    );
    client = new CriClient(`unix://${socket}`, { timeoutMs: 2_000 });
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers Version and the conditions by type', async () => {
    expect((await client.version()).runtime_api_version).toBe('v1');
    const c = await client.conditions();
    expect(c.RuntimeReady).toBe(true);
    expect(c.NetworkReady).toBe(false);
    expect(c.all['NetworkReady']).toEqual({ status: false, reason: 'NoCNI', message: 'cni not ready' });
  });

  it('keeps zero-valued enums and fields, and int64 nanoseconds exactly', async () => {
    const { status } = await client.containerStatus('c1');
    expect(status?.state).toBe('CONTAINER_CREATED');
    expect(status?.exit_code).toBe(0);
    expect(status?.created_at).toBe('1795618242336150802');
    expect(nanos(status!.created_at)).toBe(1795618242336150802n);
    expect(nanosToDate(status!.created_at).toISOString()).toBe('2026-11-25T14:50:42.336Z');
    expect(status?.started_at).toBe('0');
  });

  it('sends a zero-valued state filter (SANDBOX_READY) as a present filter', async () => {
    await client.listPodSandbox({ state: { state: 'SANDBOX_READY' } });
    await client.listPodSandbox();
    expect(calls).toContain('ListPodSandbox state=SANDBOX_READY');
    expect(calls).toContain('ListPodSandbox state=none');
  });

  it('treats NotFound as done for the idempotent calls', async () => {
    await expect(client.stopPodSandbox('gone')).resolves.toBeUndefined();
    await expect(client.removePodSandbox('gone')).resolves.toBeUndefined();
    await expect(client.stopContainer('gone', 5)).resolves.toBeUndefined();
    await expect(client.removeContainer('gone')).resolves.toBeUndefined();
    await expect(client.removeImage('gone')).resolves.toBeUndefined();
    expect(calls).toContain('StopContainer timeout=5');
  });

  it('reports NotFound as a coded CriError elsewhere', async () => {
    const err = await client.podSandboxStatus('gone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriError);
    expect(err).toMatchObject({ code: 'NotFound', method: 'PodSandboxStatus', grpcCode: 5 });
    await expect(client.containerStatus('gone')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('answers null for an image the runtime lacks', async () => {
    expect(await client.imageStatus('nope')).toBeNull();
  });

  it('ends a call that never answers at its deadline', async () => {
    const started = Date.now();
    await expect(client.execSync('c1', ['true'], 1, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'Timeout', method: 'ExecSync' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses an ExecSync without a timeout (CRI would wait forever)', () => {
    expect(() => client.execSync('c1', ['true'], 0)).toThrow(/timeoutSeconds/);
  });

  it('fails fast with Unavailable when nothing listens', async () => {
    const absent = new CriClient(`unix://${join(dir, 'absent.sock')}`, { timeoutMs: 2_000 });
    await expect(absent.version()).rejects.toMatchObject({ code: 'Unavailable' });
    absent.close();
  });
});

describe('normalizeEndpoint', () => {
  it('takes unix:///abs and a bare absolute path, and refuses the rest', () => {
    expect(normalizeEndpoint('unix:///run/c.sock')).toBe('unix:///run/c.sock');
    expect(normalizeEndpoint('/run/c.sock')).toBe('unix:///run/c.sock');
    expect(() => normalizeEndpoint('unix://run/c.sock')).toThrow(/absolute/);
    expect(() => normalizeEndpoint('localhost:1234')).toThrow(CriError);
  });
});
