import { describe, expect, it } from 'vitest';
import type { Deployment, EndpointSlice, Job, Namespace, Node, Pod, ReplicaSet, Service } from '@keel/api';
import { describe as describeAny, describedKind } from '../describe';
import type { KubeObj } from '../objects';
import { rfc1123z, tolerationText } from './common';
import { probeText } from './containers';
import { describeNode } from './node';
import { describePod, qosClass } from './pod';
import { describeNamespace, describeService, endpointsText } from './service';
import { tabwrite } from './tabwriter';
import { describeDeployment, describeJob, describeReplicaSet, splitReplicaSets } from './workloads';

// Times print in local time, as kubectl's do; the tests fix the zone.
process.env.TZ = 'UTC';
const now = new Date('2026-01-01T01:00:00Z');
const text = (lines: string[]): string => tabwrite(lines).join('\n');

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    namespace: 'demo',
    uid: 'p1',
    labels: { app: 'web', tier: 'front' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-6f7', uid: 'rs1', controller: true }],
    creationTimestamp: '2026-01-01T00:00:00Z',
  },
  spec: {
    priority: 0,
    serviceAccountName: 'default',
    nodeName: 'node-a',
    initContainers: [{ name: 'setup', image: 'busybox', command: ['sh', '-c', 'true'] }],
    containers: [
      {
        name: 'web',
        image: 'nginx:1.27',
        args: ['-g', 'daemon off;'],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 80, scheme: 'HTTP' }, initialDelaySeconds: 3, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        readinessProbe: { tcpSocket: { port: 80 }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
        env: [
          { name: 'MODE', value: 'prod' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        ],
        volumeMounts: [
          { name: 'data', mountPath: '/data' },
          { name: 'cfg', mountPath: '/etc/cfg', readOnly: true, subPath: 'app.conf' },
        ],
      },
    ],
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'web-cfg' } },
    ],
    nodeSelector: { disk: 'ssd' },
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  },
  status: {
    phase: 'Running',
    hostIP: '10.0.0.2',
    podIP: '10.244.1.5',
    podIPs: [{ ip: '10.244.1.5' }],
    startTime: '2026-01-01T00:00:01Z',
    conditions: [
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'True' },
    ],
    initContainerStatuses: [
      { name: 'setup', ready: false, restartCount: 0, image: 'busybox', imageID: 'sha256:bb', containerID: 'containerd://i1', state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2026-01-01T00:00:01Z', finishedAt: '2026-01-01T00:00:02Z' } } },
    ],
    containerStatuses: [
      {
        name: 'web',
        ready: true,
        restartCount: 1,
        image: 'nginx:1.27',
        imageID: 'docker.io/library/nginx@sha256:abc',
        containerID: 'containerd://c1',
        state: { running: { startedAt: '2026-01-01T00:00:05Z' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-01-01T00:00:02Z', finishedAt: '2026-01-01T00:00:04Z' } },
      },
    ],
  },
};

describe('tabwrite', () => {
  it('pads each column to its widest cell plus two, per block of lines that have the column', () => {
    expect(tabwrite(['Name:\tweb', 'Service Account:\tdefault', 'Containers:', '  web:', '    Image:\tnginx', '    Restart Count:\t0'])).toEqual([
      'Name:             web',
      'Service Account:  default',
      'Containers:',
      '  web:',
      '    Image:          nginx',
      '    Restart Count:  0',
    ]);
  });

  it('aligns inner columns within their own block and drops trailing spaces', () => {
    expect(tabwrite(['  Type\tStatus\tReason', '  Available \tTrue\tOK', '  Progressing \tTrue\t'])).toEqual([
      '  Type          Status  Reason',
      '  Available     True    OK',
      '  Progressing   True',
    ]);
  });
});

describe('common pieces', () => {
  it('prints times in RFC 1123 with a numeric zone', () => {
    expect(rfc1123z('2026-03-04T05:06:07Z')).toBe('Wed, 04 Mar 2026 05:06:07 +0000');
  });

  it('prints tolerations as kubectl does', () => {
    expect(tolerationText({ operator: 'Exists' })).toBe('op=Exists');
    expect(tolerationText({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' })).toBe('k=v:NoSchedule');
    expect(tolerationText({ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 })).toBe('k:NoExecute op=Exists for 30s');
  });

  it('prints probes in one line', () => {
    const attrs = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
    expect(probeText({ httpGet: { path: '/ready', port: 8080, scheme: 'HTTPS', host: 'h' }, ...attrs })).toBe('http-get https://h:8080/ready delay=0s timeout=1s period=10s #success=1 #failure=3');
    expect(probeText({ tcpSocket: { port: 'http' }, initialDelaySeconds: 5, ...attrs })).toBe('tcp-socket :http delay=5s timeout=1s period=10s #success=1 #failure=3');
    expect(probeText({ exec: { command: ['cat', '/tmp/ok'] }, ...attrs })).toBe('exec [cat /tmp/ok] delay=0s timeout=1s period=10s #success=1 #failure=3');
    expect(probeText({ grpc: { port: 9000, service: 'health' }, ...attrs })).toBe('grpc <pod>:9000 health delay=0s timeout=1s period=10s #success=1 #failure=3');
  });
});

describe('pod', () => {
  const out = text(describePod(pod, now));

  it('shows identity, placement, status and owner aligned as one block', () => {
    expect(out).toContain('Name:             web-1\nNamespace:        demo\nPriority:         0\nService Account:  default\nNode:             node-a/10.0.0.2\n');
    expect(out).toContain('Start Time:       Thu, 01 Jan 2026 00:00:01 +0000\n');
    expect(out).toContain('Labels:           app=web\n                  tier=front\nAnnotations:      <none>\nStatus:           Running\nIP:               10.244.1.5\n');
    expect(out).toContain('IPs:\n  IP:           10.244.1.5\nControlled By:  ReplicaSet/web-6f7\n');
  });

  it('shows each container with its state, resources, probes, environment and mounts', () => {
    expect(out).toContain('Init Containers:\n  setup:\n    Container ID:  containerd://i1\n');
    expect(out).toMatch(/^ {4}State:\s+Terminated\n {6}Reason:\s+Completed\n {6}Exit Code:\s+0\n {6}Started:\s+Thu, 01 Jan 2026 00:00:01 \+0000\n {6}Finished:\s+Thu, 01 Jan 2026 00:00:02 \+0000$/m);
    expect(out).toContain('Containers:\n  web:\n    Container ID:  containerd://c1\n    Image:         nginx:1.27\n    Image ID:      docker.io/library/nginx@sha256:abc\n    Port:          80/TCP\n    Host Port:     0/TCP\n    Args:\n      -g\n      daemon off;\n');
    expect(out).toMatch(/^ {4}State:\s+Running\n {6}Started:\s+Thu, 01 Jan 2026 00:00:05 \+0000\n {4}Last State:\s+Terminated\n {6}Reason:\s+OOMKilled\n {6}Exit Code:\s+137$/m);
    expect(out).toMatch(/^ {4}Ready:\s+True\n {4}Restart Count:\s+1\n {4}Limits:\n {6}cpu:\s+500m\n {6}memory:\s+128Mi\n {4}Requests:\n {6}cpu:\s+250m$/m);
    expect(out).toMatch(/^ {4}Liveness:\s+http-get http:\/\/:80\/healthz delay=3s timeout=1s period=10s #success=1 #failure=3$/m);
    expect(out).toMatch(/^ {4}Readiness:\s+tcp-socket :80 delay=0s timeout=1s period=5s #success=1 #failure=3$/m);
    expect(out).toContain('    Environment:\n      MODE:      prod\n      POD_NAME:  web-1 (v1:metadata.name)\n');
    expect(out).toMatch(/^ {6}PASS:\s+<set to the key 'password' in secret 'db'>\s+Optional: false$/m);
    expect(out).toMatch(/^ {6}CPU:\s+1 \(limits.cpu\)$/m);
    expect(out).toContain('    Mounts:\n      /data from data (rw)\n      /etc/cfg from cfg (ro,path="app.conf")\n');
    // The init container has no environment or mounts.
    expect(out).toMatch(/^ {4}Environment:\s+<none>\n {4}Mounts:\s+<none>\nContainers:$/m);
  });

  it('ends with conditions, volumes, QoS class, node selectors and tolerations', () => {
    expect(out).toContain('Conditions:\n  Type          Status\n  Initialized   True\n  Ready         True\nVolumes:\n  data:\n');
    expect(out).toMatch(/^ {4}Type:\s+EmptyDir \(a temporary directory that shares a pod's lifetime\)\n {4}Medium:\n {4}SizeLimit:\s+<unset>\n {2}cfg:$/m);
    expect(out).toMatch(/^ {4}Type:\s+ConfigMap \(a volume populated by a ConfigMap\)\n {4}Name:\s+web-cfg\n {4}Optional:\s+false$/m);
    expect(out).toMatch(/QoS Class:\s+Burstable\nNode-Selectors:\s+disk=ssd\nTolerations:\s+node.kubernetes.io\/not-ready:NoExecute op=Exists for 300s$/);
  });

  it('says Terminating while a pod is being deleted, and <none> for an unscheduled pod', () => {
    const gone = text(describePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:59:30Z', deletionGracePeriodSeconds: 30 }, spec: { containers: [] }, status: {} }, now));
    expect(gone).toMatch(/^Status:\s+Terminating \(lasts 30s\)\nTermination Grace Period:\s+30s$/m);
    expect(gone).toMatch(/^Node:\s+<none>$/m);
    expect(gone).toMatch(/^IPs:\s+<none>$/m);
    expect(gone).toContain('Containers: <none>');
  });

  it('works out the QoS class when the status does not carry it', () => {
    const withResources = (resources: object): Pod => ({ metadata: {}, spec: { containers: [{ name: 'c', resources }] } });
    expect(qosClass(withResources({}))).toBe('BestEffort');
    expect(qosClass(withResources({ limits: { cpu: '1', memory: '1Gi' } }))).toBe('Guaranteed');
    expect(qosClass(withResources({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } }))).toBe('Guaranteed');
    expect(qosClass(withResources({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } }))).toBe('Burstable');
    expect(qosClass(withResources({ requests: { memory: '1Gi' } }))).toBe('Burstable');
  });
});

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' as const }] }] } };
const deployment: Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'demo', uid: 'd1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'web' } },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } }, minReadySeconds: 5 },
  status: {
    replicas: 3,
    updatedReplicas: 2,
    availableReplicas: 2,
    unavailableReplicas: 1,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
      { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' },
    ],
  },
};
const owner = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true }];
const rs = (name: string, image: string, replicas: number, ownerReferences = owner): ReplicaSet => ({
  metadata: { name, namespace: 'demo', uid: `uid-${name}`, ownerReferences, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 80, protocol: 'TCP' }] }] } } },
  status: { replicas },
});

describe('deployment', () => {
  const sets = [rs('web-old', 'nginx:1.26', 1), rs('web-new', 'nginx:1.27', 2), rs('stranger', 'nginx:1.27', 5, [])];

  it('tells the new ReplicaSet by its template, ignoring pod-template-hash, among those it controls', () => {
    const { old, current } = splitReplicaSets(deployment, sets);
    expect(current?.metadata?.name).toBe('web-new');
    expect(old.map((r) => r.metadata?.name)).toEqual(['web-old']);
  });

  it("shows replicas, strategy, the pod template, conditions and ReplicaSets in kubectl's layout", () => {
    const out = text(describeDeployment(deployment, sets));
    expect(out).toMatch(/^Replicas:\s+3 desired \| 2 updated \| 3 total \| 2 available \| 1 unavailable$/m);
    expect(out).toMatch(/^StrategyType:\s+RollingUpdate\nMinReadySeconds:\s+5\nRollingUpdateStrategy:\s+1 max unavailable, 25% max surge\nPod Template:$/m);
    expect(out).toMatch(/^Selector:\s+app=web$/m);
    expect(out).toMatch(/^CreationTimestamp:\s+Thu, 01 Jan 2026 00:00:00 \+0000$/m);
    expect(out).toMatch(/^ {2}Labels:\s+app=web\n {2}Containers:\n {3}web:\n {4}Image:\s+nginx:1.27\n {4}Port:\s+80\/TCP$/m);
    expect(out).toMatch(/^ {2}Volumes:\s+<none>\n {2}Node-Selectors:\s+<none>\n {2}Tolerations:\s+<none>$/m);
    expect(out).toContain('Conditions:\n  Type           Status  Reason\n  ----           ------  ------\n  Available      True    MinimumReplicasAvailable\n');
    expect(out).toMatch(/OldReplicaSets:\s+web-old \(1\/1 replicas created\)\nNewReplicaSet:\s+web-new \(2\/2 replicas created\)$/);
    expect(text(describeDeployment(deployment, []))).not.toContain('NewReplicaSet');
  });
});

describe('replicaset and job', () => {
  it("counts the phases of the ReplicaSet's own pods", () => {
    const ownedPod = (name: string, phase: 'Running' | 'Pending' | 'Failed', uid = 'uid-web-new'): Pod => ({
      metadata: { name, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-new', uid, controller: true }] },
      status: { phase },
    });
    const set = { ...rs('web-new', 'nginx:1.27', 2), metadata: { ...rs('web-new', 'nginx:1.27', 2).metadata, labels: { app: 'web' } } };
    const out = text(describeReplicaSet(set, [ownedPod('a', 'Running'), ownedPod('b', 'Pending'), ownedPod('c', 'Failed'), ownedPod('d', 'Running', 'other')]));
    expect(out).toMatch(/^Controlled By:\s+Deployment\/web\nReplicas:\s+2 current \/ 2 desired\nPods Status:\s+1 Running \/ 1 Waiting \/ 0 Succeeded \/ 1 Failed\nPod Template:$/m);
    expect(out).toMatch(/^Selector:\s+app=web$/m);
    expect(text(describeReplicaSet(set, 'forbidden'))).toMatch(/^Pods Status:\s+error in fetching pods: forbidden$/m);
  });

  it('shows a Job with its completions, times and pod counts', () => {
    const job: Job = {
      metadata: { name: 'pi', namespace: 'demo', labels: { 'job-name': 'pi' } },
      spec: { parallelism: 1, completions: 3, backoffLimit: 6, selector: { matchLabels: { 'controller-uid': 'j1' } }, template: { spec: { containers: [{ name: 'pi', image: 'perl', command: ['perl', '-e', 'print 1'] }], restartPolicy: 'Never' } } },
      status: { startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:02:05Z', active: 0, ready: 0, succeeded: 3, failed: 1 },
    };
    const out = text(describeJob(job));
    expect(out).toMatch(/^Selector:\s+controller-uid=j1$/m);
    expect(out).toMatch(/^Parallelism:\s+1\nCompletions:\s+3\nBackoff Limit:\s+6\nStart Time:\s+Thu, 01 Jan 2026 00:00:00 \+0000\nCompleted At:\s+Thu, 01 Jan 2026 00:02:05 \+0000\nDuration:\s+2m5s\nPods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 1 Failed\nPod Template:$/m);
    expect(out).toMatch(/^ {4}Command:\n {6}perl\n {6}-e\n {6}print 1$/m);
  });
});

describe('service and namespace', () => {
  const slice = (ports: EndpointSlice['ports'], addresses: [string, boolean | undefined][]): EndpointSlice => ({
    metadata: {},
    addressType: 'IPv4',
    ports,
    endpoints: addresses.map(([ip, ready]) => ({ addresses: [ip], conditions: ready === undefined ? {} : { ready } })),
  });

  it('lists the ready endpoints of a port, at most three', () => {
    const s = slice([{ name: 'http', port: 8080 }], [['10.0.0.1', true], ['10.0.0.2', false], ['10.0.0.3', undefined], ['10.0.0.4', true], ['10.0.0.5', true], ['10.0.0.6', true]]);
    expect(endpointsText([s], 'http')).toBe('10.0.0.1:8080,10.0.0.3:8080,10.0.0.4:8080 + 2 more...');
    expect(endpointsText([s], 'metrics')).toBe('');
    expect(endpointsText([], 'http')).toBe('<none>');
    expect(endpointsText([slice([], [['10.0.0.9', true]])], '')).toBe('10.0.0.9');
  });

  it("shows a Service's type, IPs and one group of lines per port", () => {
    const svc: Service = {
      metadata: { name: 'web', namespace: 'demo' },
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: ['IPv4'],
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        sessionAffinity: 'None',
        externalTrafficPolicy: 'Cluster',
        ports: [
          { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
          { port: 53, targetPort: 'dns', protocol: 'UDP' },
        ],
      },
    };
    const out = text(describeService(svc, [slice([{ name: 'http', port: 8080 }], [['10.244.1.5', true]])]));
    expect(out).toBe(
      [
        'Name:                     web',
        'Namespace:                demo',
        'Labels:                   <none>',
        'Annotations:              <none>',
        'Selector:                 app=web',
        'Type:                     NodePort',
        'IP Family Policy:         SingleStack',
        'IP Families:              IPv4',
        'IP:                       10.96.0.10',
        'IPs:                      10.96.0.10',
        'Port:                     http  80/TCP',
        'TargetPort:               8080/TCP',
        'NodePort:                 http  30080/TCP',
        'Endpoints:                10.244.1.5:8080',
        'Port:                     <unset>  53/UDP',
        'TargetPort:               dns/UDP',
        'Endpoints:',
        'Session Affinity:         None',
        'External Traffic Policy:  Cluster',
      ].join('\n'),
    );
  });

  it("shows a Namespace's status and conditions", () => {
    const ns: Namespace = {
      metadata: { name: 'demo', labels: { 'kubernetes.io/metadata.name': 'demo' } },
      status: { phase: 'Terminating', conditions: [{ type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ContentDeleted', message: 'All content successfully deleted' }] },
    };
    const out = text(describeNamespace(ns));
    expect(out).toMatch(/^Name:\s+demo\nLabels:\s+kubernetes.io\/metadata.name=demo\nAnnotations:\s+<none>\nStatus:\s+Terminating\nConditions:$/m);
    expect(out).toMatch(/^ {2}NamespaceDeletionContentFailure\s+False\s+Thu, 01 Jan 2026 00:00:00 \+0000\s+ContentDeleted\s+All content successfully deleted$/m);
  });
});

describe('node', () => {
  const node: Node = {
    metadata: { name: 'node-a', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'kubernetes.io/hostname': 'node-a', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' } },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], unschedulable: true, taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] },
    status: {
      capacity: { cpu: '2', memory: '4Gi', pods: '110', 'example.com/gpu': '1' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110', 'example.com/gpu': '1' },
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:59:00Z', lastTransitionTime: '2026-01-01T00:00:10Z', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
      nodeInfo: { machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1', osImage: 'Debian', containerRuntimeVersion: 'containerd://2.0', kubeletVersion: 'v1.31.0', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
    },
  };

  it('shows roles, taints, lease, conditions, addresses, resources and system info', () => {
    const out = text(describeNode(node, { pods: [], lease: { metadata: {}, spec: { holderIdentity: 'node-a', renewTime: '2026-01-01T00:59:50.000000Z' } } }, now));
    expect(out).toMatch(/^Roles:\s+control-plane,edge$/m);
    expect(out).toMatch(/^Taints:\s+dedicated=web:NoSchedule\n\s+node.kubernetes.io\/unschedulable:NoSchedule\nUnschedulable:\s+true\nLease:\n {2}HolderIdentity:\s+node-a\n {2}AcquireTime:\s+<unset>\n {2}RenewTime:\s+Thu, 01 Jan 2026 00:59:50 \+0000$/m);
    expect(out).toContain('Conditions:\n  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason         Message\n');
    expect(out).toMatch(/^ {2}Ready\s+True\s+Thu, 01 Jan 2026 00:59:00 \+0000\s+Thu, 01 Jan 2026 00:00:10 \+0000\s+KubeletReady\s+kubelet is posting ready status$/m);
    expect(out).toMatch(/^Addresses:\n {2}InternalIP:\s+10.0.0.2\nCapacity:\n {2}cpu:\s+2\n {2}example.com\/gpu:\s+1\n {2}memory:\s+4Gi\n {2}pods:\s+110$/m);
    expect(out).toMatch(/^System Info:\n {2}Machine ID:\s+m$/m);
    expect(out).toMatch(/^ {2}Kubelet Version:\s+v1.31.0$/m);
    expect(out).toMatch(/^PodCIDR:\s+10.244.1.0\/24\nPodCIDRs:\s+10.244.1.0\/24\nNon-terminated Pods:\s+\(0 in total\)$/m);
  });

  it("shows each pod's requests and limits as a share of allocatable, and the totals", () => {
    const p = (name: string, requests: Record<string, string>, limits: Record<string, string>): Pod => ({
      metadata: { name, namespace: 'demo', creationTimestamp: '2026-01-01T00:30:00Z' },
      spec: { nodeName: 'node-a', containers: [{ name: 'c', resources: { requests, limits } }] },
    });
    const out = text(describeNode(node, { pods: [p('a', { cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '2Gi' }), p('b', { cpu: '250m' }, {})], lease: { error: 'leases.coordination.k8s.io "node-a" not found' } }, now));
    expect(out).toMatch(/^Lease:\s+Failed to get lease: leases.coordination.k8s.io "node-a" not found$/m);
    expect(out).toMatch(/^ {2}Namespace\s+Name\s+CPU Requests\s+CPU Limits\s+Memory Requests\s+Memory Limits\s+Age$/m);
    expect(out).toMatch(/^ {2}demo\s+a\s+500m \(25%\)\s+1 \(50%\)\s+1Gi \(25%\)\s+2Gi \(50%\)\s+30m$/m);
    expect(out).toMatch(/^ {2}demo\s+b\s+250m \(12%\)\s+0 \(0%\)\s+0 \(0%\)\s+0 \(0%\)\s+30m$/m);
    expect(out).toContain('Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
    expect(out).toMatch(/^ {2}cpu\s+750m \(37%\)\s+1 \(50%\)\n {2}memory\s+1Gi \(25%\)\s+2Gi \(50%\)\n {2}ephemeral-storage\s+0 \(0%\)\s+0 \(0%\)\n {2}example.com\/gpu\s+0\s+0$/m);
  });

  it('says so when the user may not list the pods', () => {
    expect(text(describeNode(node, { pods: undefined, lease: { error: 'x' } }, now))).toMatch(/^Pods:\s+not authorized$/m);
  });
});

describe('describe', () => {
  const podObj = pod as KubeObj;
  it('picks a layout by group and kind', () => {
    expect(describedKind('v1', 'Pod')).toBe('/Pod');
    expect(describedKind('apps/v1', 'Deployment')).toBe('apps/Deployment');
    expect(describedKind('batch/v1', 'Job')).toBe('batch/Job');
    expect(describedKind('v1', 'ConfigMap')).toBeUndefined();
    expect(describedKind('example.com/v1', 'Pod')).toBeUndefined();
  });

  it('puts "Events: <none>" in the last block, a table of events after it, and nothing with --show-events=false', () => {
    expect(describeAny(podObj, {}, [], now)).toMatch(/\nTolerations:\s+node.kubernetes.io\/not-ready:NoExecute op=Exists for 300s\nEvents:\s+<none>$/);
    const events = describeAny(podObj, {}, [{ type: 'Normal', reason: 'Pulled', message: 'pulled', lastTimestamp: '2026-01-01T00:59:00Z', source: { component: 'kubelet' } }], now);
    expect(events).toMatch(/\nEvents:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+----\s+------\s+----\s+----\s+-------\n\s+Normal\s+Pulled\s+60s\s+kubelet\s+pulled$/);
    expect(describeAny(podObj, {}, undefined, now)).not.toContain('Events');
  });

  it('keeps the generic layout for other kinds', () => {
    const out = describeAny({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'demo' }, data: { key: 'value' } }, {}, [], now);
    expect(out).toContain('Kind:         ConfigMap');
    expect(out).toContain('  key:  value');
    expect(out).toContain('Events:  <none>');
  });
});
