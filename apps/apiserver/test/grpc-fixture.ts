// The test apiserver of ./fixture.ts with the keel.v1 gRPC adapter on the same handler, on
// a free loopback port, and @keel/client connected to it. stop() removes everything. failure()
// gives the ApiError of a call that must fail.
import type { Metadata } from '@grpc/grpc-js';
import { ApiError, scheme } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { expect } from 'vitest';
import { GrpcApiServer, type GrpcApiOptions } from '../src/grpc/server';
import { startTestApiServer, type TestApiServer } from './fixture';

export interface TestGrpcApiServer {
  api: TestApiServer;
  grpc: GrpcApiServer;
  address: string;
  client: Client;
  /** Another client on its own channel (e.g. a second controller replica), sending `metadata` with each call. */
  connect(metadata?: () => Metadata): Client;
  stop(): Promise<void>;
}

export async function startTestGrpcApiServer(opts: Partial<Pick<GrpcApiOptions, 'bookmarkIntervalMs' | 'authenticate' | 'authorize' | 'runAs'>> = {}): Promise<TestGrpcApiServer> {
  const api = await startTestApiServer();
  const clients: Client[] = [];
  let grpc: GrpcApiServer | undefined;
  try {
    grpc = new GrpcApiServer({ scheme, handler: api.handler, ...opts });
    const port = await grpc.listen('127.0.0.1:0');
    const address = `127.0.0.1:${port}`;
    const connect = (metadata?: () => Metadata) => {
      const client = new Client(new GrpcTransport({ address, callTimeoutMs: 5000, ...(metadata ? { metadata } : {}) }));
      clients.push(client);
      return client;
    };
    const client = connect();
    const server = grpc;
    return {
      api,
      grpc: server,
      address,
      client,
      connect,
      stop: async () => {
        for (const c of clients) c.close();
        await server.stop(500);
        await api.stop();
      },
    };
  } catch (err) {
    await grpc?.stop(100);
    await api.stop();
    throw err;
  }
}

/** The ApiError a call that must fail rejects with. */
export async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}
