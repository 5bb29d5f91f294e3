import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/keel';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressError, apiserverTarget, parseApiserverAddresses } from './endpoints';
import { GrpcTransport } from './transport';

describe('parseApiserverAddresses', () => {
  it('takes one host:port, with or without a scheme', () => {
    expect(parseApiserverAddresses('127.0.0.1:6444')).toEqual(['127.0.0.1:6444']);
    expect(parseApiserverAddresses('grpc://localhost:6444')).toEqual(['localhost:6444']);
    expect(parseApiserverAddresses('[::1]:6444')).toEqual(['[::1]:6444']);
  });

  it('takes several IPv4 addresses, comma-separated', () => {
    expect(parseApiserverAddresses('10.241.0.11:6444, 10.241.0.12:6444,10.241.0.13:6444')).toEqual(['10.241.0.11:6444', '10.241.0.12:6444', '10.241.0.13:6444']);
  });

  it('says what is wrong', () => {
    expect(() => parseApiserverAddresses('')).toThrow(AddressError);
    expect(() => parseApiserverAddresses('localhost')).toThrow(/expected host:port/);
    expect(() => parseApiserverAddresses('a.example:6444,b.example:6444')).toThrow(/each be an IPv4/);
    expect(() => parseApiserverAddresses('10.0.0.300:1,10.0.0.1:1')).toThrow(/not an IPv4/);
    expect(() => parseApiserverAddresses('10.0.0.1:0,10.0.0.2:1')).toThrow(/port must be/);
    expect(() => parseApiserverAddresses('10.0.0.1:1,10.0.0.1:1')).toThrow(/listed twice/);
  });
});

describe('apiserverTarget', () => {
  it('is the address itself for one, an ipv4: list for several', () => {
    expect(apiserverTarget('127.0.0.1:6444')).toBe('127.0.0.1:6444');
    expect(apiserverTarget('10.241.0.11:6444,10.241.0.12:6444')).toBe('ipv4:10.241.0.11:6444,10.241.0.12:6444');
  });
});

/** A keel.v1 server whose Get answers with its own name, so a test sees which one answered. */
async function apiserver(name: string, host: string): Promise<{ address: string; stop: () => void }> {
  const proto = loadProto<ProtoGrpcType>('keel/v1/keel.proto');
  const server = new grpc.Server();
  const unimplemented = (_: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED });
  server.addService(proto.keel.v1.Api.service, {
    Get: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { object: Buffer.from(JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name } })) }),
    List: unimplemented,
    Create: unimplemented,
    Update: unimplemented,
    Patch: unimplemented,
    Delete: unimplemented,
    DeleteCollection: unimplemented,
    Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    Bind: unimplemented,
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { address: `${host}:${port}`, stop: () => server.forceShutdown() };
}

describe('GrpcTransport with several apiservers', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('uses the first that answers and fails over to the next when it goes away', async () => {
    const a = await apiserver('a', '127.0.0.1');
    const b = await apiserver('b', '127.0.0.1');
    cleanups.push(a.stop, b.stop);
    const transport = new GrpcTransport({ address: `${a.address},${b.address}`, callTimeoutMs: 2000 });
    cleanups.push(() => transport.close());
    const gvr = { group: '', version: 'v1', resource: 'configmaps' };
    const who = async () => (await transport.get(gvr, 'default', 'x')).metadata?.name;

    expect(await who()).toBe('a');
    a.stop();
    // The call in flight when a server dies may fail; a caller retries, as every Keel part does.
    let answer: string | undefined;
    for (let i = 0; i < 50 && answer === undefined; i++) {
      answer = await who().catch(() => undefined);
      if (answer === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBe('b');
  });

  it('reaches a later address when the first never answers', async () => {
    const b = await apiserver('b', '127.0.0.1');
    cleanups.push(b.stop);
    // A port nothing listens on: connections are refused at once.
    const dead = await apiserver('dead', '127.0.0.1');
    dead.stop();
    const transport = new GrpcTransport({ address: `${dead.address},${b.address}`, callTimeoutMs: 5000 });
    cleanups.push(() => transport.close());
    expect((await transport.get({ group: '', version: 'v1', resource: 'configmaps' }, 'default', 'x')).metadata?.name).toBe('b');
  });
});
