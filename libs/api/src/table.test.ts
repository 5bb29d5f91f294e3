import { describe, expect, it } from 'vitest';
import { age, humanDuration } from './duration';
import { podStatusReason, tableColumns, toTable } from './table';
import type { ConfigMap, Deployment, Event, Job, KubeObject, Namespace, Node, Pod, Secret, Service } from './types';

const now = Date.UTC(2024, 5, 1, 12, 0, 0);
const ago = (ms: number) => new Date(now - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

const headers = (resource: string, wide = false) =>
  tableColumns(resource)
    .filter((c) => wide || c.priority === 0)
    .map((c) => c.name.toUpperCase());

describe('humanDuration', () => {
  it.each([
    [-5 * S, '<invalid>'],
    [-1 * S, '0s'],
    [45 * S, '45s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [5 * M + 30 * S, '5m30s'],
    [5 * M, '5m'],
    [45 * M, '45m'],
    [3 * H, '3h'],
    [3 * H + 20 * M, '3h20m'],
    [20 * H, '20h'],
    [2 * D, '2d'],
    [3 * D + 4 * H, '3d4h'],
    [30 * D, '30d'],
    [800 * D, '2y70d'],
    [3650 * D, '10y'],
  ])('%d ms → %s', (ms, text) => expect(humanDuration(ms)).toBe(text));

  it('measures ages from timestamps', () => {
    expect(age(ago(5 * M), now)).toBe('5m');
    expect(age(undefined, now)).toBe('<unknown>');
  });
});

describe('Table columns', () => {
  it.each([
    ['pods', ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']],
    ['deployments', ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']],
    ['services', ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']],
    ['nodes', ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']],
    ['namespaces', ['NAME', 'STATUS', 'AGE']],
    ['replicasets', ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']],
    ['jobs', ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']],
    ['configmaps', ['NAME', 'DATA', 'AGE']],
    ['secrets', ['NAME', 'TYPE', 'DATA', 'AGE']],
    ['events', ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']],
    ['leases', ['NAME', 'HOLDER', 'AGE']],
    ['roles', ['NAME', 'AGE']],
  ])('%s: %j', (resource, names) => expect(headers(resource)).toEqual(names));

  it('adds the wide columns for pods', () => {
    expect(headers('pods', true)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(tableColumns('pods')[0]).toEqual({ name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 });
  });
});

function runningPod(edit: (p: Pod) => void = () => undefined): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', creationTimestamp: ago(5 * M), uid: 'u' },
    spec: { containers: [{ name: 'web', image: 'nginx' }, { name: 'side', image: 'busybox' }], nodeName: 'node-1' },
    status: {
      phase: 'Running',
      podIP: '10.244.1.5',
      containerStatuses: [
        { name: 'web', ready: true, restartCount: 0, image: 'nginx', imageID: '', state: { running: { startedAt: ago(4 * M) } } },
        { name: 'side', ready: false, restartCount: 3, image: 'busybox', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(2 * M) } } },
      ],
    },
  };
  edit(p);
  return p;
}

describe('pod rows', () => {
  it('prints READY, STATUS, RESTARTS, AGE, IP and NODE as kubectl does', () => {
    const table = toTable('pods', [runningPod()], { now });
    expect(table.kind).toBe('Table');
    expect(table.apiVersion).toBe('meta.k8s.io/v1');
    expect(table.rows[0]!.cells).toEqual(['web-1', '1/2', 'CrashLoopBackOff', '3 (2m ago)', '5m', '10.244.1.5', 'node-1', '<none>', '<none>']);
    expect(table.rows[0]!.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: runningPod().metadata });
  });

  it.each<[string, (p: Pod) => void, string]>([
    ['running', (p) => (p.status!.containerStatuses = [p.status!.containerStatuses![0]!]), 'Running'],
    ['pending without statuses', (p) => (p.status = { phase: 'Pending' }), 'Pending'],
    ['terminating', (p) => (p.metadata.deletionTimestamp = ago(0)), 'Terminating'],
    [
      'init container waiting',
      (p) => {
        p.spec!.initContainers = [{ name: 'init', image: 'busybox' }];
        p.status = { phase: 'Pending', initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, image: '', imageID: '', state: { running: {} } }] };
      },
      'Init:0/1',
    ],
    [
      'init container failed',
      (p) => {
        p.spec!.initContainers = [{ name: 'init', image: 'busybox' }];
        p.status = { phase: 'Pending', initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 2 } } }] };
      },
      'Init:ExitCode:2',
    ],
    [
      'completed',
      (p) =>
        (p.status = {
          phase: 'Succeeded',
          containerStatuses: [{ name: 'web', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
        }),
      'Completed',
    ],
    ['evicted', (p) => (p.status = { phase: 'Failed', reason: 'Evicted' }), 'Evicted'],
  ])('STATUS %s', (_name, edit, expected) => expect(podStatusReason(runningPod(edit))).toBe(expected));

  it('counts a started sidecar as a container, and init restarts while initializing', () => {
    const withSidecar = runningPod((p) => {
      p.spec!.initContainers = [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }];
      p.status!.initContainerStatuses = [{ name: 'proxy', ready: true, started: true, restartCount: 1, image: '', imageID: '', state: { running: {} } }];
    });
    expect(toTable('pods', [withSidecar], { now }).rows[0]!.cells.slice(1, 4)).toEqual(['2/3', 'CrashLoopBackOff', '3 (2m ago)']);
    const initializing = runningPod((p) => {
      p.spec!.initContainers = [{ name: 'migrate', image: 'm' }];
      p.status = {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'migrate', ready: false, restartCount: 2, image: '', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
      };
    });
    expect(toTable('pods', [initializing], { now }).rows[0]!.cells.slice(1, 4)).toEqual(['0/2', 'Init:CrashLoopBackOff', '2']);
  });

  it('shows Terminating only for a pod that has not finished', () => {
    expect(podStatusReason(runningPod((p) => (p.metadata.deletionTimestamp = ago(0))))).toBe('Terminating');
    expect(podStatusReason(runningPod((p) => { p.metadata.deletionTimestamp = ago(0); p.status = { phase: 'Succeeded' }; }))).toBe('Succeeded');
    expect(podStatusReason(runningPod((p) => { p.metadata.deletionTimestamp = ago(0); p.status!.reason = 'NodeLost'; }))).toBe('Unknown');
  });

  it('marks finished pods Completed and can leave the object out', () => {
    const done = runningPod((p) => (p.status = { phase: 'Succeeded' }));
    const table = toTable('pods', [done], { now, includeObject: 'None', noHeaders: true });
    expect(table.columnDefinitions).toEqual([]);
    expect(table.rows[0]!.conditions).toEqual([{ type: 'Completed', status: 'True' }]);
    expect(table.rows[0]!.object).toBeUndefined();
  });
});

describe('other rows', () => {
  const meta = (name: string) => ({ name, namespace: 'default', creationTimestamp: ago(3 * H) });

  it('deployments', () => {
    const d: Deployment = {
      metadata: meta('web'),
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(toTable('deployments', [d], { now }).rows[0]!.cells).toEqual(['web', '2/3', 3, 2, '3h', 'web', 'nginx', 'app=web']);
  });

  it('services', () => {
    const svc = (spec: Service['spec'], status?: Service['status']): Service => ({ metadata: meta('web'), spec, status });
    const cells = (s: Service) => toTable('services', [s], { now }).rows[0]!.cells.slice(0, 6);
    expect(cells(svc({ type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }))).toEqual([
      'web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,53/UDP', '3h',
    ]);
    expect(cells(svc({ type: 'NodePort', clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] }))[4]).toBe('80:30080/TCP');
    expect(cells(svc({ type: 'LoadBalancer', clusterIP: '10.96.0.12', ports: [{ port: 80 }] }))[3]).toBe('<pending>');
    expect(cells(svc({ type: 'ExternalName', externalName: 'example.com' }))[3]).toBe('example.com');
    expect(cells(svc({ type: 'ClusterIP', clusterIP: 'None', ports: [] }))[4]).toBe('<none>');
  });

  it('nodes', () => {
    const node: Node = {
      metadata: { name: 'node-1', creationTimestamp: ago(2 * D), labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
        nodeInfo: { kubeletVersion: 'v1.33.0-keel', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'containerd://1.6', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
      },
    };
    expect(toTable('nodes', [node], { now }).rows[0]!.cells).toEqual([
      'node-1', 'Ready,SchedulingDisabled', 'control-plane', '2d', 'v1.33.0-keel', '10.0.0.2', '<none>', 'Debian', '6.1', 'containerd://1.6',
    ]);
  });

  it('namespaces, configmaps, secrets, jobs, events and the default', () => {
    const ns: Namespace = { metadata: { name: 'prod', creationTimestamp: ago(45 * S) }, status: { phase: 'Active' } };
    expect(toTable('namespaces', [ns], { now }).rows[0]!.cells).toEqual(['prod', 'Active', '45s']);
    const cm: ConfigMap = { metadata: meta('c'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } };
    expect(toTable('configmaps', [cm], { now }).rows[0]!.cells).toEqual(['c', 3, '3h']);
    const secret: Secret = { metadata: meta('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } };
    expect(toTable('secrets', [secret], { now }).rows[0]!.cells).toEqual(['s', 'kubernetes.io/tls', 2, '3h']);
    const job: Job = {
      metadata: meta('pi'),
      spec: { completions: 1, template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } } },
      status: { succeeded: 1, startTime: ago(3 * H), completionTime: ago(3 * H - 40 * S), conditions: [{ type: 'Complete', status: 'True' }] },
    };
    const jobRow = toTable('jobs', [job], { now }).rows[0]!;
    expect(jobRow.cells.slice(0, 5)).toEqual(['pi', 'Complete', '1/1', '40s', '3h']);
    expect(jobRow.conditions).toEqual([{ type: 'Completed', status: 'True' }]);
    const event: Event = {
      metadata: meta('web-1.17a'),
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' },
      reason: 'Scheduled',
      message: 'Successfully assigned default/web-1 to node-1',
      type: 'Normal',
      lastTimestamp: ago(2 * M),
      firstTimestamp: ago(2 * M),
      count: 1,
      source: { component: 'default-scheduler' },
    };
    expect(toTable('events', [event], { now }).rows[0]!.cells).toEqual([
      '2m', 'Normal', 'Scheduled', 'pod/web-1', '', 'default-scheduler', 'Successfully assigned default/web-1 to node-1', '2m', 1, 'web-1.17a',
    ]);
    const role: KubeObject = { metadata: meta('reader') };
    expect(toTable('roles', [role], { now: new Date(now) }).rows[0]!.cells).toEqual(['reader', '3h']);
  });
});
