import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DaemonSet, Deployment, Job, Namespace, Node, Pod, PriorityClass, ReplicaSet, RoleBinding, Secret, Service } from '../types';
import { applyDefaults, defaultImagePullPolicy } from './index';

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default' },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }], ...spec },
});

describe('Pod defaults', () => {
  it('fills the pod and container defaults Kubernetes fills', () => {
    const out = applyDefaults(pod());
    expect(out.spec).toEqual({
      containers: [
        {
          name: 'web',
          image: 'nginx:1.25',
          imagePullPolicy: 'IfNotPresent',
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      securityContext: {},
      enableServiceLinks: true,
    });
  });

  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['localhost:5000/nginx', 'Always'],
    ['localhost:5000/nginx:v1', 'IfNotPresent'],
    ['nginx@sha256:abc', 'IfNotPresent'],
    [undefined, 'Always'],
  ])('image %s pulls %s', (image, policy) => {
    expect(defaultImagePullPolicy(image)).toBe(policy);
  });

  it('defaults ports, probes, env field refs, volumes and requests from limits', () => {
    const out = applyDefaults(
      pod({
        containers: [
          {
            name: 'web',
            image: 'web',
            ports: [{ containerPort: 80 }],
            livenessProbe: { httpGet: { port: 80 } },
            readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5 },
            lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
            env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '100m' } },
          },
        ],
        volumes: [
          { name: 'empty' },
          { name: 'cm', configMap: { name: 'c' } },
          { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        ],
        hostNetwork: true,
      }),
    );
    const c = out.spec!.containers[0]!;
    expect(c.ports).toEqual([{ containerPort: 80, protocol: 'TCP', hostPort: 80 }]);
    expect(c.livenessProbe).toEqual({
      httpGet: { port: 80, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.readinessProbe!.periodSeconds).toBe(5);
    expect(c.env![0]!.valueFrom!.fieldRef!.apiVersion).toBe('v1');
    expect(c.resources).toEqual({ limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '100m', memory: '1Gi' } });
    expect(out.spec!.volumes).toEqual([
      { name: 'empty', emptyDir: {} },
      { name: 'cm', configMap: { name: 'c', defaultMode: 0o644 } },
      { name: 'token', projected: { defaultMode: 0o644, sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } },
    ]);
  });

  it('keeps what is set and leaves the input untouched', () => {
    const input = pod({ restartPolicy: 'Never', terminationGracePeriodSeconds: 0, serviceAccount: 'builder' });
    const out = applyDefaults(input);
    expect(out.spec!.restartPolicy).toBe('Never');
    expect(out.spec!.terminationGracePeriodSeconds).toBe(0);
    expect(out.spec!.serviceAccountName).toBe('builder');
    expect(input.spec!.dnsPolicy).toBeUndefined();
  });
});

describe('defaults for other kinds', () => {
  it('Service: ClusterIP, sessionAffinity None, TCP, targetPort = port', () => {
    const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }, { port: 443, targetPort: 'https' }] } };
    expect(applyDefaults(svc).spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 443, protocol: 'TCP', targetPort: 'https' },
      ],
    });
    const nodePort: Service = { ...svc, spec: { type: 'NodePort', ports: [{ port: 80 }] } };
    expect(applyDefaults(nodePort).spec!.externalTrafficPolicy).toBe('Cluster');
  });

  it('Deployment: 1 replica, RollingUpdate 25%/25%, 10 revisions, 600 s deadline, pod template defaults', () => {
    const d: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    };
    const out = applyDefaults(d).spec!;
    expect(out.replicas).toBe(1);
    expect(out.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    expect(out.revisionHistoryLimit).toBe(10);
    expect(out.progressDeadlineSeconds).toBe(600);
    expect(out.template.spec!.restartPolicy).toBe('Always');
    expect(out.template.spec!.containers[0]!.imagePullPolicy).toBe('Always');
    const recreate = applyDefaults({ ...d, spec: { ...d.spec!, strategy: { type: 'Recreate' } } });
    expect(recreate.spec!.strategy).toEqual({ type: 'Recreate' });
  });

  it('ReplicaSet: 1 replica', () => {
    const rs: ReplicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { selector: {} } };
    expect(applyDefaults(rs).spec!.replicas).toBe(1);
  });

  it('DaemonSet: RollingUpdate 1/0, 10 revisions', () => {
    const ds: DaemonSet = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd' }, spec: { selector: {}, template: {} } };
    const out = applyDefaults(ds).spec!;
    expect(out.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(out.revisionHistoryLimit).toBe(10);
  });

  it('Job: completions and parallelism 1, backoffLimit 6, NonIndexed, selector from the uid', () => {
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', uid: 'abc' },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], restartPolicy: 'Never' } } },
    };
    const out = applyDefaults(job).spec!;
    expect(out).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
    expect(out.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } });
    expect(out.template.metadata!.labels).toEqual({
      'batch.kubernetes.io/controller-uid': 'abc',
      'controller-uid': 'abc',
      'batch.kubernetes.io/job-name': 'pi',
      'job-name': 'pi',
    });
    const parallel = applyDefaults({ ...job, spec: { ...job.spec!, parallelism: 3 } }).spec!;
    expect(parallel.completions).toBeUndefined();
    expect(parallel.parallelism).toBe(3);
    const manual = applyDefaults({ ...job, spec: { ...job.spec!, manualSelector: true } }).spec!;
    expect(manual.selector).toBeUndefined();
  });

  it('Namespace, Node, Secret, PriorityClass, RoleBinding', () => {
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } };
    expect(applyDefaults(ns)).toMatchObject({ spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { capacity: { cpu: '4' } } };
    expect(applyDefaults(node).status!.allocatable).toEqual({ cpu: '4' });
    const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } };
    expect(applyDefaults(secret).type).toBe('Opaque');
    const pc: PriorityClass = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' }, value: 5 };
    expect(applyDefaults(pc).preemptionPolicy).toBe('PreemptLowerPriority');
    const rb: RoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'b' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'default' }],
    };
    expect(applyDefaults(rb).subjects!.map((s) => s.apiGroup)).toEqual(['rbac.authorization.k8s.io', '']);
  });

  it('is idempotent (property over pod specs)', () => {
    const container = fc.record(
      {
        name: fc.constantFrom('a', 'b'),
        image: fc.constantFrom('nginx', 'nginx:1', 'x@sha256:1'),
        imagePullPolicy: fc.constantFrom('Always' as const, 'Never' as const),
        ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }) }, { requiredKeys: ['containerPort'] }), { maxLength: 2 }),
        livenessProbe: fc.record({ tcpSocket: fc.constant({ port: 80 }), periodSeconds: fc.integer({ min: 1, max: 60 }) }, { requiredKeys: ['tcpSocket'] }),
      },
      { requiredKeys: ['name'] },
    );
    fc.assert(
      fc.property(
        fc.array(container, { minLength: 1, maxLength: 3 }),
        fc.option(fc.constantFrom('Always' as const, 'Never' as const, 'OnFailure' as const), { nil: undefined }),
        fc.boolean(),
        (containers, restartPolicy, hostNetwork) => {
          const input = pod({ containers, hostNetwork });
          if (restartPolicy) input.spec!.restartPolicy = restartPolicy;
          const once = applyDefaults(input);
          expect(applyDefaults(once)).toEqual(once);
        },
      ),
      { numRuns: 200 },
    );
  });
});
