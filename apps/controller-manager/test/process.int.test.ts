// keel-controller-manager as users run it: the built command, two replicas with
// --leader-elect against a real apiserver. One leads (and `kubectl rollout status` sees its
// Deployment roll out); killed without a chance to release the Lease, the other takes over
// once the Lease expires; SIGTERM stops a replica cleanly and releases the Lease.
import type { Lease, Pod } from '@keel/api';
import { freeLoopbackPorts, httpAnswers, killDaemon, startDaemon, stopDaemon, type RunningDaemon } from '@keel/process';
import { ensureKubectl } from '@keel/tools-kubectl';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubelet, startControlPlane, waitFor, type ControlPlane } from './cluster';

const root = resolve(import.meta.dirname, '../../..');
const main = join(root, 'dist/apps/controller-manager/main.js');
let plane: ControlPlane;
const replicas: { name: string; pidFile: string; logFile: string; healthz: number; daemon?: RunningDaemon }[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'tools/scripts/bundle.mjs'), 'apps/controller-manager'], { cwd: root, stdio: 'pipe' });
  plane = await startControlPlane();
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await stopDaemon(r.pidFile, 3000).catch(() => false);
  await plane?.stop();
}, 60_000);

async function startReplica(name: string): Promise<void> {
  const [healthz] = await freeLoopbackPorts(1);
  const dir = join(plane.work, `keel-cm-${name}`);
  const r = { name, pidFile: join(dir, 'pid'), logFile: join(dir, 'log'), healthz: healthz! };
  replicas.push(r);
  const daemon = await startDaemon({
    argv: [
      process.execPath, main,
      '--apiserver', plane.grpcAddress,
      '--apiserver-url', plane.restUrl,
      '--leader-elect',
      '--leader-elect-lease-duration', '3s',
      '--leader-elect-renew-deadline', '2s',
      '--leader-elect-retry-period', '500ms',
      '--healthz-port', String(healthz),
      '--cluster-cidr', '10.244.0.0/16',
    ],
    pidFile: r.pidFile,
    logFile: r.logFile,
    ready: () => httpAnswers(`http://127.0.0.1:${healthz}/healthz`),
    readyTimeoutMs: 20_000,
  });
  Object.assign(r, { daemon });
}

const log = (name: string) => readFileSync(replicas.find((r) => r.name === name)!.logFile, 'utf8');
const leaderOf = () => replicas.find((r) => r.daemon && log(r.name).includes('became leader'));

describe('keel-controller-manager', () => {
  it('exits 2 with a one-line reason on a bad flag', () => {
    try {
      execFileSync(process.execPath, [main, '--controllers', 'nope'], { stdio: 'pipe' });
      expect.unreachable();
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      expect(e.status).toBe(2);
      expect(e.stderr.toString()).toMatch(/unknown controller "nope"/);
    }
  });

  it('leads with one replica of two, rolls a Deployment out for kubectl, and fails over when the leader dies', async () => {
    await startReplica('a');
    await startReplica('b');
    const first = await waitFor(() => leaderOf(), 20_000, 'a leader');
    // Only one of the two leads.
    expect(replicas.filter((r) => log(r.name).includes('became leader'))).toHaveLength(1);
    const lease: Lease = await plane.client.leases('kube-system').get('keel-controller-manager');
    expect(lease.spec?.holderIdentity).toBeTruthy();

    await plane.client.deployments('default').create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'keel/web:1' }] } } },
    });
    // Stand in for the kubelet while kubectl watches the rollout.
    let marking = true;
    const marker = (async () => {
      while (marking) {
        const pods = await plane.client.pods('default').list({ labelSelector: 'app=web' }).catch(() => ({ items: [] as Pod[] }));
        for (const p of pods.items) {
          if (!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) await kubelet(plane.client, p).catch(() => undefined);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const kubeconfig = join(plane.work, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: keel\n  cluster:\n    server: ${plane.restUrl}\ncontexts:\n- name: keel\n  context:\n    cluster: keel\n    user: keel\nusers:\n- name: keel\n  user: {}\ncurrent-context: keel\n`,
    );
    const kubectl = ensureKubectl('1.33');
    const { stdout } = await promisify(execFile)(kubectl, ['rollout', 'status', 'deployment/web', '-n', 'default', '--timeout=60s'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    expect(stdout).toMatch(/deployment "web" successfully rolled out/);
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const run = (...args: string[]) => promisify(execFile)(kubectl, args, { env }).then((r) => r.stdout);
    // A second revision, then `kubectl rollout undo` back to the first (kubectl writes the
    // old ReplicaSet's template into the Deployment; the controller makes it revision 3).
    await run('set', 'image', 'deployment/web', 'web=keel/web:2');
    expect(await run('rollout', 'status', 'deployment/web', '--timeout=60s')).toMatch(/successfully rolled out/);
    await run('rollout', 'undo', 'deployment/web');
    expect(await run('rollout', 'status', 'deployment/web', '--timeout=60s')).toMatch(/successfully rolled out/);
    const history = await run('rollout', 'history', 'deployment/web');
    expect(history).toMatch(/REVISION/);
    expect(history.trim().split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['2', '3']);
    const dep = await plane.client.deployments('default').get('web');
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe('keel/web:1');
    expect(dep.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    marking = false;
    await marker;
    // A DaemonSet's history is ControllerRevisions: kubectl lists them and rolls back to one.
    await plane.client.daemonSets('default').create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'keel/agent:1' }] } } },
    });
    const revisionsOf = async () => (await plane.client.controllerRevisions('default').list()).items.filter((r) => r.metadata.name?.startsWith('agent-'));
    await waitFor(async () => (await revisionsOf()).length === 1, 20_000, 'the first DaemonSet revision');
    await run('set', 'image', 'daemonset/agent', 'a=keel/agent:2');
    await waitFor(async () => (await revisionsOf()).length === 2, 20_000, 'the second DaemonSet revision');
    const dsHistory = await run('rollout', 'history', 'daemonset/agent');
    expect(dsHistory.trim().split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['1', '2']);
    await run('rollout', 'undo', 'daemonset/agent');
    expect((await plane.client.daemonSets('default').get('agent')).spec?.template.spec?.containers[0]?.image).toBe('keel/agent:1');
    await waitFor(async () => (await revisionsOf()).map((r) => r.revision).sort().join() === '2,3', 20_000, 'the rolled-back template renumbered 3');
    // The leader serves its metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${first.healthz}/metrics`)).text();
    expect(metrics).toMatch(/keel_controller_manager_leader 1/);
    expect(metrics).toMatch(/keel_controller_reconciles_total\{controller="deployment"\} [1-9]/);

    // The leader dies without releasing the Lease: the other replica takes over after it expires.
    await killDaemon(first.pidFile);
    first.daemon = undefined;
    const second = await waitFor(() => leaderOf(), 20_000, 'a new leader');
    expect(second.name).not.toBe(first.name);
    await plane.client.deployments('default').create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'after', namespace: 'default' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'after' } }, template: { metadata: { labels: { app: 'after' } }, spec: { containers: [{ name: 'c', image: 'keel/web:1' }] } } },
    });
    await waitFor(async () => (await plane.client.pods('default').list({ labelSelector: 'app=after' })).items.length === 1, 20_000, 'the new leader at work');

    // SIGTERM: a clean stop that gives the Lease back.
    await stopDaemon(second.pidFile, 5000);
    second.daemon = undefined;
    expect(log(second.name)).toMatch(/"msg":"stopping"/);
    const released: Lease = await plane.client.leases('kube-system').get('keel-controller-manager');
    expect(released.spec?.holderIdentity ?? '').toBe('');
  }, 120_000);
});
