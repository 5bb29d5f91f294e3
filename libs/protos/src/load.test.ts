import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProtoGrpcType as HealthProto } from './generated/health';
import type { HealthCheckResponse__Output } from './generated/grpc/health/v1/HealthCheckResponse';
import { loadProto, protosRoot } from './load';

describe('loadProto', () => {
  let server: grpc.Server | undefined;
  afterEach(() => server?.forceShutdown());

  it('finds protos/ from the source tree', () => {
    expect(protosRoot()).toMatch(/\/protos$/);
  });

  it('keeps zero-valued enums over a real gRPC round trip (defaults: true)', async () => {
    const health = loadProto<HealthProto>('grpc/health/v1/health.proto');
    server = new grpc.Server();
    server.addService(health.grpc.health.v1.Health.service, {
      Check: (_call: unknown, done: grpc.sendUnaryData<{ status: string }>) => done(null, { status: 'UNKNOWN' }),
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });
    const port = await new Promise<number>((ok, fail) =>
      server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? fail(err) : ok(p))),
    );
    const client = new health.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const reply = await new Promise<HealthCheckResponse__Output>((ok, fail) =>
      client.Check({ service: '' }, { deadline: Date.now() + 5000 }, (err, res) => (err ? fail(err) : ok(res!))),
    );
    client.close();
    // UNKNOWN is enum value 0: it is absent on the wire and must still be reported.
    expect(reply.status).toBe('UNKNOWN');
  });
});
