// keel.v1 behind the REST side's security, end to end: TLS with the cluster CA, client
// certificates (verified ones only) and bearer tokens, RBAC with the bootstrap component
// roles and Kubernetes' 403 wording. The scheduler's own identity does what a scheduler
// does over gRPC — wins its Lease and binds a pod — and nothing more.
import { scheme, type Pod } from '@keel/api';
import { Client, GrpcTransport, LeaderElector, LeaseLock } from '@keel/client';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecurity } from '../src/auth/config';
import { grpcSecurityHooks, grpcServerCredentials } from '../src/grpc/security';
import { GrpcApiServer } from '../src/grpc/server';
import { clusterPki, foreignCert, userCert, type Files, type TestPki } from './auth-pki';
import { pkiSecurity, startTestApiServer, type TestApiServer } from './fixture';

const work = mkdtempSync(join(tmpdir(), 'keel-grpc-secure-test-'));
let api: TestApiServer;
let grpcApi: GrpcApiServer;
let pki: TestPki;
let address: string;
let foreign: Files;
const clients: Client[] = [];

function connect(opts: { cert?: Files; token?: string; plaintext?: boolean } = {}): Client {
  const ca = readFileSync(pki.ca.certFile);
  const tls = opts.cert ? { ca, cert: readFileSync(opts.cert.certFile), key: readFileSync(opts.cert.keyFile) } : { ca };
  const client = new Client(new GrpcTransport({ address, callTimeoutMs: 5000, ...(opts.plaintext ? {} : { tls }), ...(opts.token ? { token: opts.token } : {}) }));
  clients.push(client);
  return client;
}

let admin: Client;
let scheduler: Client;
let alice: Client;

beforeAll(async () => {
  pki = await clusterPki(join(work, 'pki'));
  const aliceCert = await userCert(join(work, 'pki'), 'alice', 'alice', ['dev']);
  foreign = await foreignCert(join(work, 'foreign'), 'mallory', ['system:masters']);
  const tokenFile = join(work, 'tokens.csv');
  writeFileSync(tokenFile, 'bob-token-1234,bob,uid-bob,"ops"\n');
  const testSecurity = pkiSecurity(pki, { tokenAuthFile: tokenFile });
  const flags = testSecurity.flags;
  api = await startTestApiServer({ security: testSecurity });
  // The same Security main.ts builds for both adapters.
  const { security } = await loadSecurity(flags, { scheme, handler: api.handler });
  grpcApi = new GrpcApiServer({ scheme, handler: api.handler, ...grpcSecurityHooks(security) });
  const port = await grpcApi.listen('127.0.0.1:0', grpcServerCredentials({ certFile: flags.tlsCertFile, keyFile: flags.tlsPrivateKeyFile, clientCaFile: pki.ca.certFile }));
  address = `127.0.0.1:${port}`;
  admin = connect({ cert: pki.clients['admin']! });
  scheduler = connect({ cert: pki.clients['kube-scheduler']! });
  alice = connect({ cert: aliceCert });
  // Leases of the control plane live in kube-system, which the apiserver creates at startup.
  await admin.namespaces().get('kube-system');
}, 120_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await grpcApi?.stop(500);
  await api?.stop();
  rmSync(work, { recursive: true, force: true });
});

const pod = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'keel/web:1.0' }] } });

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as { reason: string; message: string; httpStatus: number };
  }
  throw new Error('expected the call to fail');
}

describe('keel.v1 with TLS, authentication and RBAC', () => {
  it('serves an admin client certificate (system:masters)', async () => {
    const created = await admin.pods('default').create(pod('sec-a'));
    expect(created.metadata.name).toBe('sec-a');
    expect((await admin.pods('default').list()).items.map((p) => p.metadata.name)).toContain('sec-a');
  });

  it('answers 401 without credentials, with a bad token, or with a certificate from another CA', async () => {
    expect(await failure(connect().pods('default').list())).toMatchObject({ reason: 'Unauthorized', httpStatus: 401 });
    expect((await failure(connect({ token: 'not-a-token' }).pods('default').list())).reason).toBe('Unauthorized');
    expect((await failure(connect({ cert: foreign }).pods('default').list())).reason).toBe('Unauthorized');
  });

  it('refuses plain text on the TLS port', async () => {
    expect((await failure(connect({ plaintext: true }).pods('default').list())).reason).toBe('ServiceUnavailable');
  });

  it('answers 403 with Kubernetes wording to an authenticated user RBAC does not allow', async () => {
    const denied = await failure(alice.pods('default').list());
    expect(denied).toMatchObject({ reason: 'Forbidden', httpStatus: 403 });
    expect(denied.message).toBe('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    const bob = await failure(connect({ token: 'bob-token-1234' }).configMaps('default').get('x'));
    expect(bob.message).toMatch(/User "bob" cannot get resource "configmaps"/);
  });

  it('lets the scheduler hold its Lease and bind a pod, and nothing beyond its role', async () => {
    const elector = new LeaderElector({
      lock: new LeaseLock(scheduler.leases(), 'kube-system', 'kube-scheduler'),
      identity: 'scheduler-1',
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 100,
    });
    const running = elector.run();
    const deadline = Date.now() + 5000;
    while (!elector.isLeader() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(elector.isLeader()).toBe(true);
    await admin.pods('default').create(pod('to-bind'));
    const bound = await scheduler.bind('default', 'to-bind', 'n1');
    expect(bound.spec?.nodeName).toBe('n1');
    const other = await failure(new LeaseLock(scheduler.leases(), 'kube-system', 'someone-else').update({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'someone-else', namespace: 'kube-system' } }));
    expect(other.reason).toBe('Forbidden');
    expect((await failure(scheduler.configMaps('default').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope' } }))).reason).toBe('Forbidden');
    await elector.stop();
    await running;
  });
});
