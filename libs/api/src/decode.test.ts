import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeObject, strictDecodingError } from './decode';
import { applyDefaults } from './defaults';
import { parseGroupVersion, scheme } from './scheme';
import { prepareForCreate, prepareForUpdate } from './strategy';
import { toTable } from './table';
import type { KubeObject } from './types';
import { validateCreate, validateStatusUpdate, validateUpdate } from './validation';

const gvkOf = (o: { apiVersion: string; kind: string }) => ({ ...parseGroupVersion(o.apiVersion), kind: o.kind });
const decodeMessage = (o: Record<string, unknown> & { apiVersion: string; kind: string }) => decodeObject(gvkOf(o), o).error?.message;

describe('decodeObject', () => {
  const deployment = (spec: unknown) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec });

  it.each<[string, Record<string, unknown> & { apiVersion: string; kind: string }, string | undefined]>([
    ['a well-typed deployment', deployment({ replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] } } }), undefined],
    [
      'replicas as a string',
      deployment({ replicas: 'three' }),
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    ],
    [
      'replicas as a fraction',
      deployment({ replicas: 1.5 }),
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32',
    ],
    [
      'containers as an object',
      deployment({ template: { spec: { containers: { name: 'c' } } } }),
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container',
    ],
    [
      'a container as a string',
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: ['nginx'] } },
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container',
    ],
    [
      'a port number as a string',
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } },
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32',
    ],
    [
      'a label value as a number',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { version: 2 } } },
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    ],
    [
      'a selector as a string',
      deployment({ selector: 'app=web' }),
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.selector of type *v1.LabelSelector',
    ],
    ['int-or-string accepts both', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8081 }] } }, undefined],
    [
      'secret data that is not base64',
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'hunter2!' } },
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 7',
    ],
    ['nulls decode to nothing', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: null }, spec: { containers: null } }, undefined],
  ])('%s', (_name, body, message) => {
    expect(decodeMessage(body)).toBe(message);
  });

  it('drops nulls and zeroes null list items, as Go decoding does', () => {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: null, spec: { containers: [null, { name: 'c', image: null }], nodeSelector: { a: null } } };
    expect(decodeObject(gvkOf(body), body).object).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [{}, { name: 'c' }], nodeSelector: { a: '' } } });
  });

  it('refuses a body that is not an object', () => {
    expect(decodeObject({ group: '', version: 'v1', kind: 'Pod' }, [1]).error?.message).toBe('Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal array into Go value of type v1.Pod');
  });

  it('reports fields it does not model, for fieldValidation', () => {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', colour: 'red' }, spec: { containers: [{ name: 'c', imagee: 'nginx' }] } };
    const result = decodeObject(gvkOf(body), body);
    expect(result.error).toBeUndefined();
    expect(result.unknownFields).toEqual(['metadata.colour', 'spec.containers[0].imagee']);
    expect(strictDecodingError(result.unknownFields)?.message).toBe('strict decoding error: unknown field "metadata.colour", unknown field "spec.containers[0].imagee"');
    expect(strictDecodingError([])).toBeUndefined();
  });
});

// Well-typed samples of every kind; the property below breaks one field at a time.
const samples: (KubeObject & { apiVersion: string; kind: string })[] = [
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd', labels: { a: 'b' }, ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u' }], finalizers: ['a/b'] }, spec: { volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }], initContainers: [{ name: 'i', image: 'x' }], containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }], env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }], envFrom: [{ configMapRef: { name: 'c' } }], resources: { limits: { cpu: '1' } }, volumeMounts: [{ name: 'v', mountPath: '/v' }], livenessProbe: { httpGet: { port: 80, httpHeaders: [{ name: 'a', value: 'b' }] } }, lifecycle: { preStop: { exec: { command: ['a'] } } }, securityContext: { runAsUser: 1 } }], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }] }, preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: {} }] }, podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'z', labelSelector: { matchLabels: { a: 'b' } } }] } }, tolerations: [{ key: 'a', operator: 'Exists' }], topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'z', whenUnsatisfiable: 'DoNotSchedule' }], nodeSelector: { a: 'b' }, imagePullSecrets: [{ name: 'x' }], securityContext: { fsGroup: 1 } }, status: { podIP: '1.2.3.4', podIPs: [{ ip: '1.2.3.4' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: '', imageID: '', state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: '2024-01-01T00:00:00Z' } } }], initContainerStatuses: [{ name: 'i', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 0 } } }], conditions: [{ type: 'Ready', status: 'True' }] } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'd' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '10%' } } }, status: { replicas: 1, conditions: [] } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', namespace: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }], nodeSelector: { a: 'b' } } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'd', uid: 'u' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } }, status: { conditions: [{ type: 'Complete', status: 'True' }], startTime: '2024-01-01T00:00:00Z' } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'd' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30000, targetPort: 'http' }], selector: { a: 'b' }, clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], externalIPs: ['1.1.1.1'] }, status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', labels: { 'node-role.kubernetes.io/x': '' } }, spec: { taints: [{ key: 'a', effect: 'NoSchedule' }], podCIDRs: ['10.0.0.0/24'] }, status: { capacity: { cpu: '1' }, conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '1.1.1.1' }] } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'd' }, data: { a: 'YQ==' }, stringData: { b: 'c' }, type: 'kubernetes.io/tls' } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 's', namespace: 'd' }, data: { a: 'b' }, binaryData: { b: 'YQ==' } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 's', namespace: 'd' }, subsets: [{ addresses: [{ ip: '1.1.1.1' }], ports: [{ port: 80 }] }] } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'v1', kind: 'Event', metadata: { name: 's', namespace: 'd' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'd' }, type: 'Normal', source: { component: 'x' }, series: { count: 1 } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's', namespace: 'd' }, addressType: 'IPv4', endpoints: [{ addresses: ['1.1.1.1'], hostname: 'h' }], ports: [{ port: 80 }] } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'r', namespace: 'd' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }] } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' }, value: 1 } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'd' }, spec: { holderIdentity: 'x', leaseDurationSeconds: 1 } } as KubeObject & { apiVersion: string; kind: string },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } } as KubeObject & { apiVersion: string; kind: string },
];

function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length > 0) out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function setAt<T>(root: T, path: (string | number)[], value: unknown): T {
  const copy = JSON.parse(JSON.stringify(root)) as T;
  let cur = copy as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) cur = cur[key] as Record<string | number, unknown>;
  cur[path[path.length - 1]!] = value;
  return copy;
}

describe('a decoded body never crashes the pipeline', () => {
  it('defaults, validation, strategies and Table printing accept anything decodeObject lets through (property)', () => {
    for (const sample of samples) {
      const decoded = decodeObject(gvkOf(sample), sample);
      expect(decoded.error).toBeUndefined();
      // The shapes know every field the types do.
      expect(decoded.unknownFields).toEqual([]);
    }
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (sample, pick, value) => {
        const all = paths(sample).filter((p) => p[0] !== 'apiVersion' && p[0] !== 'kind');
        const path = all[pick % all.length]!;
        const decoded = decodeObject(gvkOf(sample), setAt(sample, path, value));
        if (decoded.error) return;
        const body = decoded.object!;
        const info = scheme.forObject(sample)!;
        validateCreate(applyDefaults(body));
        validateUpdate(applyDefaults(body), sample);
        validateStatusUpdate(body, sample);
        prepareForCreate(info, body, { uid: 'u', now: 0 });
        prepareForUpdate(info, body, sample);
        toTable(info.resource, [body], { now: 0 });
      }),
      { numRuns: 1500 },
    );
  });
});

describe('time fields', () => {
  it('refuses a timestamp Go could not parse', () => {
    const body = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: {}, lastTimestamp: 'yesterday' };
    expect(decodeObject(gvkOf(body), body).error?.message).toBe(
      'Event in version "v1" cannot be handled as a Event: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"',
    );
    expect(decodeObject(gvkOf(body), { ...body, lastTimestamp: '2024-01-01T00:00:00Z' }).error).toBeUndefined();
  });
});
