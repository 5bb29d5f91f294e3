// Fixture builders shared by the controllers' unit tests.
import type { DaemonSet, Deployment, Job, Node, Pod, ReplicaSet, Service } from '@keel/api';
import { T0 } from '../testing/harness';

export const ts = (offsetMs = 0) => new Date(T0 + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function pod(name: string, labels: Record<string, string>, extra: Partial<Pod> & { ready?: boolean; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; ip?: string } = {}): Pod {
  const { ready, phase, ip, ...rest } = extra;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels, creationTimestamp: ts(), ...(rest.metadata ?? {}) },
    spec: rest.spec ?? { containers: [{ name: 'c', image: 'img' }] },
    status: {
      phase: phase ?? (ready ? 'Running' : 'Pending'),
      ...(ip ? { podIP: ip } : {}),
      ...(ready !== undefined ? { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: ts(-60_000) }] } : {}),
    },
  };
}

export function replicaSet(name: string, replicas: number, labels: Record<string, string> = { app: 'web' }, extra: Partial<ReplicaSet['metadata']> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, labels, creationTimestamp: ts(), ...extra },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'img' }] } } },
    status: { replicas: 0 },
  };
}

export function deployment(name: string, replicas: number, image = 'img:1', extra: Partial<Deployment['spec']> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, creationTimestamp: ts() },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...extra,
    },
  };
}

export function job(name: string, spec: Partial<Job['spec']> = {}): Job {
  const labels = { 'batch.kubernetes.io/controller-uid': `uid-${name}` };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, creationTimestamp: ts() },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'img' }], restartPolicy: 'Never' } }, ...spec },
  };
}

export function node(name: string, extra: Partial<Node> = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: ts() }] }, ...extra };
}

export function service(name: string, selector: Record<string, string> | undefined, ports: NonNullable<Service['spec']>['ports'] = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `uid-svc-${name}` }, spec: { ...(selector ? { selector } : {}), ports, clusterIP: '10.96.0.10' } };
}

export function daemonSet(name: string, extra: Partial<DaemonSet['spec']> = {}): DaemonSet {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1 },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'img' }] } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }, ...extra },
  };
}

/** An owner reference making `owner` the controller. */
export function ownedBy(kind: string, name: string, apiVersion = 'apps/v1') {
  return { ownerReferences: [{ apiVersion, kind, name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: true }] };
}
