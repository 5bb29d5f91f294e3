// The gRPC adapter's security hooks: who calls (authenticate, from the call's metadata),
// whether they may (authorize, with Kubernetes' request attributes), and the work done as
// them (runAs). Refusals reach the client as the same ApiErrors REST answers with.
import { Metadata } from '@grpc/grpc-js';
import { ApiError, type ConfigMap } from '@keel/api';
import type { Client } from '@keel/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestAttributes } from '../src/grpc/server';
import { failure, startTestGrpcApiServer, type TestGrpcApiServer } from './grpc-fixture';

let t: TestGrpcApiServer;
const decisions: string[] = [];
const ranAs: string[] = [];
let admin: Client;
let viewer: Client;
let stranger: Client;
let anonymous: Client;

const bearer = (token: string) => () => {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
};

beforeAll(async () => {
  t = await startTestGrpcApiServer({
    authenticate: ({ metadata }) => {
      const header = metadata.get('authorization')[0];
      if (header === 'Bearer admin-token') return { name: 'admin' };
      if (header === 'Bearer viewer-token') return { name: 'viewer' };
      throw new ApiError('Unauthorized', 'Unauthorized');
    },
    authorize: (user, a: RequestAttributes) => {
      const name = (user as { name: string }).name;
      decisions.push(`${name} ${a.verb} ${a.resource}${a.subresource ? '/' + a.subresource : ''} ${a.namespace}/${a.name}`);
      if (name === 'admin' || ['get', 'list', 'watch'].includes(a.verb)) return;
      throw new ApiError('Forbidden', `${a.resource} is forbidden: User "${name}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}" in the namespace "${a.namespace}"`, {
        kind: a.resource,
        group: a.group,
      });
    },
    runAs: async (user, _attributes, work) => {
      ranAs.push((user as { name: string }).name);
      return work();
    },
  });
  admin = t.connect(bearer('admin-token'));
  viewer = t.connect(bearer('viewer-token'));
  stranger = t.connect(bearer('forged'));
  anonymous = t.connect();
}, 60_000);
afterAll(async () => t?.stop());

const cm = (name: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: {} });

describe('gRPC security hooks', () => {
  it('refuses calls without valid credentials as Unauthorized (401)', async () => {
    expect(await failure(anonymous.configMaps('default').list())).toMatchObject({ reason: 'Unauthorized', httpStatus: 401 });
    expect((await failure(stranger.configMaps('default').get('x'))).reason).toBe('Unauthorized');
  });

  it('authorizes with the request attributes and runs writes as the caller', async () => {
    await admin.configMaps('default').create(cm('sec-1'));
    expect(decisions).toContain('admin create configmaps default/');
    expect(ranAs).toContain('admin');
    expect((await viewer.configMaps('default').get('sec-1')).metadata.name).toBe('sec-1');
    expect(decisions).toContain('viewer get configmaps default/sec-1');
  });

  it('refuses what the caller may not do as Forbidden (403), with the reason', async () => {
    const denied = await failure(viewer.configMaps('default').delete('sec-1'));
    expect(denied).toMatchObject({ reason: 'Forbidden', httpStatus: 403 });
    expect(denied.message).toMatch(/User "viewer" cannot delete resource "configmaps"/);
    await admin.pods('default').create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sec-pod' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    expect((await failure(viewer.bind('default', 'sec-pod', 'node-1'))).reason).toBe('Forbidden');
    expect(decisions).toContain('viewer create pods/binding default/sec-pod');
    expect((await admin.configMaps('default').get('sec-1')).metadata.name).toBe('sec-1');
  });

  it('guards watches too', async () => {
    const ended = await new Promise<ApiError | undefined>((resolve) => {
      anonymous.configMaps('default').watch({}, { event: () => undefined, end: resolve });
    });
    expect(ended?.reason).toBe('Unauthorized');
    const events: string[] = [];
    const handle = viewer.configMaps('default').watch({ resourceVersion: '0' }, { event: (e) => events.push(e.object.metadata.name!), end: () => undefined });
    await handle.established;
    handle.stop();
    expect(decisions).toContain('viewer watch configmaps default/');
  });
});
