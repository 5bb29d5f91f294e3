import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../defaults';
import type {
  ClusterRoleBinding,
  ConfigMap,
  DaemonSet,
  Deployment,
  EndpointSlice,
  Job,
  KubeObject,
  Lease,
  Namespace,
  Node,
  PriorityClass,
  ReplicaSet,
  Role,
  RoleBinding,
  Secret,
  Service,
} from '../types';
import { validateCreate, validateStatusUpdate, validateUpdate } from './index';

// As ApiErrors.invalid prints causes: `field: message`, or the message alone for the root.
const lines = (o: KubeObject) => validateCreate(o).map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
const updateLines = <T extends KubeObject>(u: T, c: T) => validateUpdate(u, c).map((e) => `${e.field}: ${e.message}`);

function edited<T extends KubeObject>(make: () => T, edit: (o: T) => void): T {
  const o = make();
  edit(o);
  return o;
}

const template = () => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
});

const deployment = (): Deployment =>
  applyDefaults({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template() },
  });

describe('Deployment validation', () => {
  it('accepts a good deployment', () => expect(lines(deployment())).toEqual([]));

  it.each<[string, (d: Deployment) => void, string[]]>([
    ['negative replicas', (d) => (d.spec!.replicas = -1), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    [
      'missing image in the template',
      (d) => delete d.spec!.template.spec!.containers[0]!.image,
      ['spec.template.spec.containers[0].image: Required value'],
    ],
    ['missing selector', (d) => delete (d.spec as { selector?: unknown }).selector, ['spec.selector: Required value']],
    ['empty selector', (d) => (d.spec!.selector = {}), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']],
    [
      'selector not matching the template',
      (d) => (d.spec!.selector = { matchLabels: { app: 'api' } }),
      ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    ],
    [
      'template restart policy',
      (d) => (d.spec!.template.spec!.restartPolicy = 'OnFailure'),
      ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    ],
    [
      'bad strategy type',
      (d) => (d.spec!.strategy = { type: 'Blue' as never }),
      ['spec.strategy.type: Unsupported value: "Blue": supported values: "Recreate", "RollingUpdate"'],
    ],
    [
      'Recreate with rollingUpdate',
      (d) => (d.spec!.strategy = { type: 'Recreate', rollingUpdate: {} }),
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    ],
    [
      'maxSurge and maxUnavailable both zero',
      (d) => (d.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'],
    ],
    [
      'bad percentages',
      (d) => (d.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '200%', maxUnavailable: 'half' } }),
      [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"half\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ],
    ],
    [
      'maxUnavailable above 100% (a surge may be)',
      (d) => (d.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '150%', maxUnavailable: '110%' } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%'],
    ],
    [
      'activeDeadlineSeconds in the template',
      (d) => (d.spec!.template.spec!.activeDeadlineSeconds = 30),
      ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported'],
    ],
    [
      'progress deadline not above minReadySeconds',
      (d) => {
        d.spec!.minReadySeconds = 10;
        d.spec!.progressDeadlineSeconds = 5;
      },
      ['spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds'],
    ],
    [
      'bad selector expression',
      (d) => (d.spec!.selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' }] }),
      ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ],
  ])('%s', (_name, edit, expected) => {
    expect(lines(edited(deployment, edit))).toEqual(expected);
  });

  it('keeps the selector on update', () => {
    const updated = edited(deployment, (d) => {
      d.spec!.selector = { matchLabels: { app: 'web', v: '2' } };
      d.spec!.template.metadata!.labels = { app: 'web', v: '2' };
    });
    expect(updateLines(updated, deployment())).toEqual(['spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable']);
    expect(updateLines(edited(deployment, (d) => (d.spec!.replicas = 5)), deployment())).toEqual([]);
  });
});

describe('ReplicaSet, DaemonSet and Job validation', () => {
  const replicaSet = (): ReplicaSet =>
    applyDefaults({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } });
  const daemonSet = (): DaemonSet =>
    applyDefaults({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } });
  const job = (): Job =>
    applyDefaults({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: 'default', uid: 'u-1' },
      spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'Never' } } },
    });

  it('accepts good ones', () => {
    expect(lines(replicaSet())).toEqual([]);
    expect(lines(daemonSet())).toEqual([]);
    expect(lines(job())).toEqual([]);
  });

  it('ReplicaSet: replicas, empty selector, template labels', () => {
    expect(lines(edited(replicaSet, (r) => (r.spec!.replicas = -1)))).toEqual(['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
    expect(lines(edited(replicaSet, (r) => (r.spec!.selector = {})))).toEqual(['spec.selector: Invalid value: {}: empty selector is invalid for deployment']);
    expect(lines(edited(replicaSet, (r) => delete r.spec!.template))).toEqual(['spec.template: Required value']);
    expect(updateLines(edited(replicaSet, (r) => (r.spec!.selector = { matchLabels: { app: 'x' } })), replicaSet())).toContain(
      'spec.selector: Invalid value: {"matchLabels":{"app":"x"}}: field is immutable',
    );
  });

  it('DaemonSet: strategy and selector', () => {
    expect(lines(edited(daemonSet, (d) => (d.spec!.updateStrategy = { type: 'Sometimes' as never })))).toEqual([
      'spec.updateStrategy.type: Unsupported value: "Sometimes": supported values: "OnDelete", "RollingUpdate"',
    ]);
    expect(lines(edited(daemonSet, (d) => (d.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } })))).toEqual([
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
    ]);
    expect(lines(edited(daemonSet, (d) => (d.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '120%' } })))).toEqual([
      'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "120%": must not be greater than 100%',
      'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "120%": may not be set when maxUnavailable is non-zero',
    ]);
    expect(lines(edited(daemonSet, (d) => (d.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '10%' } })))).toEqual([]);
    expect(lines(edited(daemonSet, (d) => (d.spec!.template.spec!.activeDeadlineSeconds = 5)))).toEqual([
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported',
    ]);
    expect(lines(edited(daemonSet, (d) => (d.spec!.selector = {})))).toEqual(['spec.selector: Invalid value: {}: empty selector is invalid for daemonset']);
  });

  it('Job: restart policy, counts, completion mode; template and completions fixed', () => {
    expect(lines(edited(job, (j) => (j.spec!.template.spec!.restartPolicy = 'Always')))).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
    expect(
      lines(
        edited(job, (j) => {
          j.spec!.parallelism = -1;
          j.spec!.backoffLimit = -2;
          j.spec!.completionMode = 'Indexed';
          delete j.spec!.completions;
        }),
      ),
    ).toEqual([
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0',
      'spec.completions: Required value: when completion mode is Indexed',
    ]);
    const updated = edited(job, (j) => {
      j.spec!.template.spec!.containers[0]!.image = 'perl:5';
      j.spec!.completions = 3;
    });
    expect(updateLines(updated, job())).toEqual([
      expect.stringMatching(/^spec\.template: Invalid value: \{.*\}: field is immutable$/),
      'spec.completions: Invalid value: 3: field is immutable',
    ]);
    expect(updateLines(edited(job, (j) => (j.spec!.suspend = true)), job())).toEqual([]);
  });
});

describe('core kinds', () => {
  const service = (): Service =>
    applyDefaults({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });

  it('Service: names are DNS-1035 labels', () => {
    expect(lines(edited(service, (s) => (s.metadata.name = '1web')))).toEqual([
      "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it.each<[string, (s: Service) => void, string[]]>([
    ['no ports', (s) => (s.spec!.ports = []), ['spec.ports: Required value']],
    ['bad type', (s) => (s.spec!.type = 'Magic' as never), ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    [
      'ports need names when several, unique port/protocol, valid ranges',
      (s) => (s.spec!.ports = [{ port: 80, protocol: 'TCP', targetPort: 0 }, { port: 80, protocol: 'TCP', targetPort: 'Http' }, { name: 'x', port: 70000, protocol: 'TCP' }]),
      [
        'spec.ports[0].name: Required value',
        'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
        'spec.ports[1].name: Required value',
        'spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}',
        'spec.ports[1].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        'spec.ports[2].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      ],
    ],
    ['nodePort on ClusterIP', (s) => (s.spec!.ports![0]!.nodePort = 30080), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['bad cluster IP', (s) => (s.spec!.clusterIP = '10.0.0.300'), ['spec.clusterIP: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['bad session affinity', (s) => (s.spec!.sessionAffinity = 'Sticky' as never), ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"']],
    [
      'ExternalName without a name but with a cluster IP',
      (s) => {
        s.spec!.type = 'ExternalName';
        s.spec!.clusterIP = '10.0.0.1';
      },
      ['spec.externalName: Required value', 'spec.clusterIP: Forbidden: may not be set for ExternalName services'],
    ],
  ])('Service: %s', (_name, edit, expected) => {
    expect(lines(edited(service, edit))).toEqual(expected);
  });

  it('Service: the cluster IP is immutable once set', () => {
    const current = edited(service, (s) => (s.spec!.clusterIP = '10.96.0.10'));
    expect(updateLines(edited(service, (s) => (s.spec!.clusterIP = '10.96.0.11')), current)).toEqual([
      'spec.clusterIP: Invalid value: "10.96.0.11": field is immutable',
    ]);
    expect(updateLines(edited(service, (s) => (s.spec!.clusterIP = '10.96.0.10')), current)).toEqual([]);
  });

  it('Namespace: names are DNS labels; cluster-scoped', () => {
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team.a', namespace: 'x' } };
    expect(lines(ns)).toEqual(['metadata.name: Invalid value: "team.a": must not contain dots', 'metadata.namespace: Forbidden: not allowed on this type']);
  });

  it('Node: taints and pod CIDRs', () => {
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1' },
      spec: { podCIDR: '10.244.1.0/33', taints: [{ key: 'k', effect: 'NoSchedule' }, { key: 'k', effect: 'NoSchedule' }, { key: 'j', effect: 'Never' as never }] },
    };
    expect(lines(node)).toEqual([
      'spec.taints[1]: Duplicate value: "k:NoSchedule"',
      'spec.taints[2].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      'spec.podCIDR: Invalid value: "10.244.1.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    const current: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] } };
    expect(updateLines({ ...current, spec: { podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24'] } }, current)).toEqual([
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
    expect(updateLines(current, { ...current, spec: {} })).toEqual([]);
  });

  it('ConfigMap and Secret: keys, size, immutability, types', () => {
    const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { 'bad key': 'x', ok: 'y' }, binaryData: { ok: 'AA==' } };
    expect(lines(cm)).toEqual([
      "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'binaryData[ok]: Invalid value: "ok": duplicate of key present in data',
    ]);
    const big: ConfigMap = { ...cm, data: { big: 'x'.repeat(1024 * 1024 + 1) }, binaryData: undefined };
    expect(lines(big)).toEqual(['Too long: may not be more than 1048576 bytes']);
    const frozen: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' }, immutable: true };
    expect(updateLines({ ...frozen, data: { a: '2' }, immutable: false }, frozen)).toEqual([
      'data: Forbidden: field is immutable when `immutable` is set',
      'immutable: Forbidden: field is immutable when `immutable` is set',
    ]);
    const tls: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'not base64!' } };
    expect(lines(tls)).toEqual(['data[tls.crt]: Invalid value: "<value omitted>": illegal base64 data', 'data[tls.key]: Required value']);
    const opaque: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'Opaque', data: { a: 'YQ==' } };
    expect(updateLines({ ...opaque, type: 'kubernetes.io/basic-auth' }, opaque)).toEqual([
      'data[username]: Required value',
      'data[password]: Required value',
      'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    ]);
  });
});

describe('metadata', () => {
  const cm = (metadata: KubeObject['metadata']): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata });

  it.each<[string, KubeObject['metadata'], string[]]>([
    ['no name', { namespace: 'default' }, ['metadata.name: Required value: name or generateName is required']],
    // The server turns generateName into a name before validating, as Kubernetes does.
    ['generated name', { generateName: 'web-', name: 'web-x7k2p', namespace: 'default' }, []],
    [
      'bad generateName',
      { generateName: 'Web-', name: 'web-x7k2p', namespace: 'default' },
      [
        "metadata.generateName: Invalid value: \"Web-\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    ['no namespace', { name: 'c' }, ['metadata.namespace: Required value']],
    [
      'bad namespace',
      { name: 'c', namespace: 'Prod' },
      [
        "metadata.namespace: Invalid value: \"Prod\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
    ['long name', { name: 'a'.repeat(254), namespace: 'default' }, ['metadata.name: Invalid value: "' + 'a'.repeat(254) + '": must be no more than 253 characters']],
    [
      'bad label key and value',
      { name: 'c', namespace: 'default', labels: { 'example.com/': 'ok', app: 'x'.repeat(64) } },
      [
        'metadata.labels: Invalid value: "example.com/": name part must be non-empty',
        "metadata.labels: Invalid value: \"example.com/\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        `metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`,
      ],
    ],
    [
      'annotations too large',
      { name: 'c', namespace: 'default', annotations: { big: 'x'.repeat(256 * 1024) } },
      ['metadata.annotations: Too long: may not be more than 262144 bytes'],
    ],
    [
      'two controllers and an empty uid',
      {
        name: 'c',
        namespace: 'default',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: 'u', controller: true },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '', controller: true },
        ],
      },
      [
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
        'metadata.ownerReferences: Invalid value: [{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"a","uid":"u","controller":true},{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"b","uid":"","controller":true}]: Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b',
      ],
    ],
  ])('%s', (_name, metadata, expected) => {
    expect(lines(cm(metadata))).toEqual(expected);
  });

  it('no new finalizers while deleting', () => {
    const current = cm({ name: 'c', namespace: 'default', deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['a.io/x'] });
    const updated = cm({ name: 'c', namespace: 'default', deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['a.io/x', 'b.io/y'] });
    expect(updateLines(updated, current)).toEqual(['metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ["b.io/y"]']);
  });
});

describe('smaller groups', () => {
  it('EndpointSlice', () => {
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'default' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: [] }, { addresses: ['fe80::1'] }],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    };
    expect(lines(slice)).toEqual(['endpoints[1].addresses: Required value: must contain at least 1 address', 'endpoints[2].addresses[0]: Invalid value: "fe80::1": must be a valid IPv4 address']);
    expect(updateLines({ ...slice, endpoints: [], addressType: 'IPv6' }, { ...slice, endpoints: [] })).toEqual(['addressType: Invalid value: "IPv6": field is immutable']);
  });

  it('Lease', () => {
    const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { leaseDurationSeconds: 0 } };
    expect(lines(lease)).toEqual(['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
  });

  it('RBAC roles and bindings', () => {
    const role: Role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'system:reader', namespace: 'default' },
      rules: [{ verbs: [], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }],
    };
    expect(lines(role)).toEqual(['rules[0].verbs: Required value: verbs must contain at least one value', 'rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs']);
    const binding: RoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'b', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'system:reader' },
      subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'Robot' as never, name: 'r2' }],
    };
    expect(lines(binding)).toEqual(['subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']);
    const changed = { ...binding, subjects: [], roleRef: { ...binding.roleRef, name: 'admin' } };
    expect(updateLines(changed, { ...binding, subjects: [] })).toEqual([
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"admin"}: cannot change roleRef',
    ]);
    const crb: ClusterRoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'b' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [{ kind: 'ServiceAccount', name: 'sa', apiGroup: '' }],
    };
    expect(lines(crb)).toEqual(['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"', 'subjects[0].namespace: Required value']);
  });

  it('PriorityClass', () => {
    const pc = (name: string, value: number): PriorityClass => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
    expect(lines(pc('high', 2_000_000_000))).toEqual(['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
    expect(lines(pc('system-mine', 1))).toEqual(["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved"]);
    expect(lines(pc('system-node-critical', 2_000_001_000))).toEqual([]);
    expect(updateLines(pc('high', 5), pc('high', 4))).toEqual(['value: Forbidden: may not be changed in an update.']);
  });

  it('Scale', () => {
    expect(lines({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: -1 } } as KubeObject)).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});

describe('status writes', () => {
  const statusLines = <T extends KubeObject>(u: T, c: T) => validateStatusUpdate(u, c).map((e) => `${e.field}: ${e.message}`);

  it('Deployment: counts bounded by replicas, collisionCount never decremented', () => {
    const current: Deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, status: { collisionCount: 2 } };
    const updated: Deployment = { ...current, status: { replicas: 2, readyReplicas: 3, availableReplicas: 3, updatedReplicas: -1, collisionCount: 1 } };
    expect(statusLines(updated, current)).toEqual([
      'status.updatedReplicas: Invalid value: -1: must be greater than or equal to 0',
      'status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas',
      'status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas',
      'status.collisionCount: Invalid value: 1: cannot be decremented',
    ]);
    expect(statusLines({ ...current, status: { replicas: 3, readyReplicas: 2, availableReplicas: 1, collisionCount: 2 } }, current)).toEqual([]);
  });

  it('ReplicaSet: available not above ready', () => {
    const rs: ReplicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r', namespace: 'default' }, status: { replicas: 3, readyReplicas: 1, availableReplicas: 2 } };
    expect(statusLines(rs, rs)).toEqual(['status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas']);
  });

  it('Pod: IPs are addresses and podIPs[0] is podIP; identity still fixed', () => {
    const current = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' } };
    const updated = { ...current, metadata: { ...current.metadata, uid: 'v' }, status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.2' }], hostIP: 'nope' } };
    expect(statusLines(updated as KubeObject, current)).toEqual([
      'metadata.uid: Invalid value: "v": field is immutable',
      'status.podIPs[0].ip: Invalid value: "10.0.0.2": must be equal to podIP',
      'status.hostIP: Invalid value: "nope": must be a valid IP address',
    ]);
  });
});
