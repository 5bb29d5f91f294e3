import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../defaults';
import type { Pod } from '../types';
import { assertValidCreate, validateCreate, validateUpdate } from './index';
import { ApiError } from '../errors';

/** A valid, defaulted pod, changed by `edit`. */
function pod(edit: (p: Pod) => void = () => undefined): Pod {
  const p: Pod = applyDefaults({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx:1.25',
          ports: [{ name: 'http', containerPort: 80 }],
          env: [{ name: 'MODE', value: 'prod' }],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
          livenessProbe: { httpGet: { port: 'http' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  });
  edit(p);
  return p;
}

const lines = (p: Pod) => validateCreate(p).map((e) => `${e.field}: ${e.message}`);

describe('Pod validation', () => {
  it('accepts a good pod', () => {
    expect(lines(pod())).toEqual([]);
  });

  it.each<[string, (p: Pod) => void, string[]]>([
    ['missing image', (p) => delete p.spec!.containers[0]!.image, ['spec.containers[0].image: Required value']],
    ['no containers', (p) => (p.spec!.containers = []), ['spec.containers: Required value']],
    [
      'bad restart policy',
      (p) => (p.spec!.restartPolicy = 'Sometimes' as never),
      ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
    ],
    [
      'bad dns policy',
      (p) => (p.spec!.dnsPolicy = 'Google' as never),
      ['spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"'],
    ],
    [
      'duplicate container name',
      (p) => p.spec!.containers.push({ ...p.spec!.containers[0]!, ports: [] }),
      ['spec.containers[1].name: Duplicate value: "web"'],
    ],
    [
      'init container shares a name',
      (p) => (p.spec!.initContainers = [{ name: 'web', image: 'busybox' }]),
      ['spec.initContainers[0].name: Duplicate value: "web"'],
    ],
    [
      'two containers on one host port',
      (p) => {
        p.spec!.containers[0]!.ports![0]!.hostPort = 8080;
        p.spec!.containers.push({ name: 'side', image: 'busybox', ports: [{ containerPort: 9090, hostPort: 8080, protocol: 'TCP' }] });
      },
      ['spec.containers[1].ports[0].hostPort: Duplicate value: "/TCP/8080"'],
    ],
    [
      'container name not a DNS label',
      (p) => (p.spec!.containers[0]!.name = 'Web_1'),
      [
        "spec.containers[0].name: Invalid value: \"Web_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
    [
      'port out of range',
      (p) => (p.spec!.containers[0]!.ports![0]!.containerPort = 70000),
      ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ],
    ['port missing', (p) => (p.spec!.containers[0]!.ports![0]!.containerPort = 0), ['spec.containers[0].ports[0].containerPort: Required value']],
    [
      'bad protocol',
      (p) => (p.spec!.containers[0]!.ports![0]!.protocol = 'ICMP' as never),
      ['spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
    ],
    [
      'duplicate port name',
      (p) => p.spec!.containers[0]!.ports!.push({ name: 'http', containerPort: 81, protocol: 'TCP' }),
      ['spec.containers[0].ports[1].name: Duplicate value: "http"'],
    ],
    [
      'bad port name',
      (p) => (p.spec!.containers[0]!.ports![0]!.name = 'HTTP'),
      [
        'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
      ],
    ],
    [
      'bad pull policy',
      (p) => (p.spec!.containers[0]!.imagePullPolicy = 'Sometimes' as never),
      ['spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'],
    ],
    [
      'request above limit',
      (p) => (p.spec!.containers[0]!.resources!.requests!.cpu = '2'),
      ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
    ],
    [
      'negative and unparsable quantities',
      (p) => (p.spec!.containers[0]!.resources = { limits: { cpu: '-1', memory: 'lots' } }),
      [
        'spec.containers[0].resources.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0',
        "spec.containers[0].resources.limits[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      ],
    ],
    [
      'unknown resource',
      (p) => (p.spec!.containers[0]!.resources = { limits: { gpus: '1' } }),
      ['spec.containers[0].resources.limits[gpus]: Invalid value: "gpus": must be a standard resource for containers'],
    ],
    ['env name missing', (p) => (p.spec!.containers[0]!.env![0]!.name = ''), ['spec.containers[0].env[0].name: Required value']],
    [
      'env valueFrom with value',
      (p) => (p.spec!.containers[0]!.env![0]!.valueFrom = { configMapKeyRef: { name: 'c', key: 'k' } }),
      ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty'],
    ],
    [
      'env valueFrom with two sources',
      (p) =>
        (p.spec!.containers[0]!.env = [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' }, secretKeyRef: { name: 's', key: 'k' } } }]),
      ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time'],
    ],
    [
      'env fieldRef unsupported',
      (p) => (p.spec!.containers[0]!.env = [{ name: 'X', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.foo' } } }]),
      [
        'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.foo": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
      ],
    ],
    [
      'env secretKeyRef without key',
      (p) => (p.spec!.containers[0]!.env = [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: '' } } }]),
      ['spec.containers[0].env[0].valueFrom.secretKeyRef.key: Required value'],
    ],
    [
      'env resourceFieldRef unsupported',
      (p) => (p.spec!.containers[0]!.env = [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }]),
      [
        'spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"',
      ],
    ],
    [
      'envFrom without a source',
      (p) => (p.spec!.containers[0]!.envFrom = [{ prefix: 'X_' }]),
      ['spec.containers[0].envFrom[0]: Invalid value: "": must specify one of: `configMapRef` or `secretRef`'],
    ],
    [
      'probe without handler',
      (p) => (p.spec!.containers[0]!.livenessProbe = { periodSeconds: 10 }),
      ['spec.containers[0].livenessProbe: Required value: must specify a handler type'],
    ],
    [
      'probe with two handlers and bad timings',
      (p) => (p.spec!.containers[0]!.livenessProbe = { exec: { command: ['true'] }, tcpSocket: { port: 80 }, periodSeconds: -1, successThreshold: 2 }),
      [
        'spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type',
        'spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0',
        'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
      ],
    ],
    [
      'httpGet port zero and bad scheme',
      (p) => (p.spec!.containers[0]!.readinessProbe = { httpGet: { port: 0, path: '/', scheme: 'FTP' as never } }),
      [
        'spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive',
        'spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"',
      ],
    ],
    [
      'preStop without handler',
      (p) => (p.spec!.containers[0]!.lifecycle = { preStop: {} }),
      ['spec.containers[0].lifecycle.preStop: Required value: must specify a handler type'],
    ],
    [
      'readiness probe on an init container',
      (p) => (p.spec!.initContainers = [{ name: 'init', image: 'busybox', readinessProbe: { exec: { command: ['true'] } } }]),
      ['spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always'],
    ],
    [
      'volume mount of an unknown volume',
      (p) => (p.spec!.containers[0]!.volumeMounts![0]!.name = 'cache'),
      ['spec.containers[0].volumeMounts[0].name: Not found: "cache"'],
    ],
    [
      'volume problems',
      (p) =>
        (p.spec!.volumes = [
          { name: 'data', emptyDir: {} },
          { name: 'data', emptyDir: {}, hostPath: { path: '' } },
          { name: 'cm', configMap: { name: '', defaultMode: 1000 } },
          { name: 'nothing' },
          { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 60 } }] } },
        ]),
      [
        'spec.volumes[1].name: Duplicate value: "data"',
        'spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type',
        'spec.volumes[1].hostPath.path: Required value',
        'spec.volumes[2].configMap.name: Required value',
        'spec.volumes[2].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive',
        'spec.volumes[3]: Required value: must specify a volume type',
        'spec.volumes[4].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
      ],
    ],
    [
      'negative grace period and zero deadline',
      (p) => {
        p.spec!.terminationGracePeriodSeconds = -1;
        p.spec!.activeDeadlineSeconds = 0;
      },
      [
        'spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0',
        'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
      ],
    ],
    [
      'hostNetwork with a different hostPort',
      (p) => {
        p.spec!.hostNetwork = true;
        p.spec!.containers[0]!.ports![0]!.hostPort = 8080;
      },
      ['spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true'],
    ],
    [
      'tolerations',
      (p) =>
        (p.spec!.tolerations = [
          { key: 'k', operator: 'Exists', value: 'v' },
          { operator: 'Equal', value: 'x' },
          { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule', tolerationSeconds: 5 },
          { key: 'k', operator: 'Maybe' as never },
          { key: 'k', effect: 'Sometimes' as never },
        ]),
      [
        "spec.tolerations[0].operator: Invalid value: {\"key\":\"k\",\"operator\":\"Exists\",\"value\":\"v\"}: value must be empty when `operator` is 'Exists'",
        'spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
        "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
        'spec.tolerations[3].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"',
        'spec.tolerations[4].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      ],
    ],
    [
      'node affinity',
      (p) =>
        (p.spec!.affinity = {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In' }, { key: 'ssd', operator: 'Exists', values: ['x'] }] }],
            },
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: 'a', operator: 'Gt', values: [] }] } }],
          },
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: '' }] },
        }),
      [
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100',
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
        'spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty',
      ],
    ],
    [
      'topology spread',
      (p) =>
        (p.spec!.topologySpreadConstraints = [
          { maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' },
          { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' },
          { maxSkew: 1, topologyKey: '', whenUnsatisfiable: 'Whenever' as never },
        ]),
      [
        'spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero',
        'spec.topologySpreadConstraints[1]: Duplicate value: "{zone, DoNotSchedule}"',
        'spec.topologySpreadConstraints[2].topologyKey: Required value: can not be empty',
        'spec.topologySpreadConstraints[2].whenUnsatisfiable: Unsupported value: "Whenever": supported values: "DoNotSchedule", "ScheduleAnyway"',
      ],
    ],
    [
      'node name, service account and priority class names',
      (p) => {
        p.spec!.nodeName = 'Node_1';
        p.spec!.serviceAccountName = 'a/b';
      },
      [
        "spec.nodeName: Invalid value: \"Node_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        "spec.serviceAccountName: Invalid value: \"a/b\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    [
      'nodeSelector value',
      (p) => (p.spec!.nodeSelector = { zone: 'a b' }),
      [
        "spec.nodeSelector: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      ],
    ],
  ])('%s', (_name, edit, expected) => {
    expect(lines(pod(edit))).toEqual(expected);
  });

  it('names every bad field in one 422', () => {
    const bad = pod((p) => {
      delete p.spec!.containers[0]!.image;
      p.spec!.restartPolicy = 'Sometimes' as never;
      p.metadata.name = 'Web';
    });
    try {
      assertValidCreate(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      const status = (err as ApiError).toStatus();
      expect(status.code).toBe(422);
      expect(status.reason).toBe('Invalid');
      expect(status.details!.causes!.map((c) => c.field)).toEqual(['metadata.name', 'spec.containers[0].image', 'spec.restartPolicy']);
      expect(status.details!.causes!.map((c) => c.reason)).toEqual(['FieldValueInvalid', 'FieldValueRequired', 'FieldValueNotSupported']);
      expect(status.message).toMatch(/^Pod "Web" is invalid: \[metadata\.name: Invalid value: "Web": a lowercase RFC 1123 subdomain/);
    }
  });
});

describe('Pod update', () => {
  it('allows image, tolerations added, deadline lowered', () => {
    const current = pod((p) => (p.spec!.activeDeadlineSeconds = 100));
    const updated = pod((p) => {
      p.spec!.containers[0]!.image = 'nginx:1.26';
      p.spec!.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }];
      p.spec!.activeDeadlineSeconds = 50;
      p.metadata.labels = { app: 'web', extra: 'yes' };
    });
    expect(validateUpdate(updated, current)).toEqual([]);
  });

  it('forbids other spec changes and raising the deadline', () => {
    const current = pod((p) => {
      p.spec!.activeDeadlineSeconds = 100;
      p.spec!.tolerations = [{ key: 'k', operator: 'Exists' }];
    });
    const updated = pod((p) => {
      p.spec!.activeDeadlineSeconds = 200;
      p.spec!.restartPolicy = 'Never';
    });
    expect(validateUpdate(updated, current).map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value',
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ]);
    const cleared = pod((p) => (p.spec!.tolerations = current.spec!.tolerations));
    expect(validateUpdate(cleared, current).map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value',
    ]);
  });

  it('keeps name, namespace, uid and creationTimestamp', () => {
    const current = pod((p) => Object.assign(p.metadata, { uid: 'u1', creationTimestamp: '2024-01-01T00:00:00Z' }));
    const updated = pod((p) => Object.assign(p.metadata, { name: 'other', namespace: 'prod', uid: 'u2', creationTimestamp: '2024-01-02T00:00:00Z' }));
    expect(validateUpdate(updated, current).map((e) => `${e.field}: ${e.message}`)).toEqual([
      'metadata.name: Invalid value: "other": field is immutable',
      'metadata.namespace: Invalid value: "prod": field is immutable',
      'metadata.uid: Invalid value: "u2": field is immutable',
      'metadata.creationTimestamp: Invalid value: "2024-01-02T00:00:00Z": field is immutable',
    ]);
  });
});
