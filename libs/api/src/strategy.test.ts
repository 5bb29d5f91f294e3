import { describe, expect, it } from 'vitest';
import { scheme } from './scheme';
import { generateName, podQOSClass, prepareForCreate, prepareForStatusUpdate, prepareForUpdate } from './strategy';
import type { ConfigMap, Deployment, Job, Node, Pod, Secret } from './types';
import { validateCreate } from './validation';

const now = Date.UTC(2024, 0, 2, 3, 4, 5);
const info = (name: string) => scheme.lookup(name)!;

function deployment(replicas = 1): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } },
  };
}

describe('prepareForCreate', () => {
  it('sets uid, creationTimestamp, generation 1, defaults, and drops client-set status and marks', () => {
    const input = { ...deployment(), status: { readyReplicas: 9 }, metadata: { ...deployment().metadata, resourceVersion: '7', deletionTimestamp: 'x', generation: 5 } };
    const out = prepareForCreate(info('deployments'), input, { uid: 'u-1', now });
    expect(out.metadata).toEqual({ name: 'web', namespace: 'default', uid: 'u-1', creationTimestamp: '2024-01-02T03:04:05Z', generation: 1 });
    expect(out.status).toEqual({});
    expect(out.spec!.strategy!.type).toBe('RollingUpdate');
  });

  it('gives a Job the selector of its own uid', () => {
    const job: Job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default' }, spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'Never' } } } };
    const out = prepareForCreate(info('jobs'), job, { uid: 'job-uid', now });
    expect(out.spec!.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } });
    expect(out.spec!.template.metadata!.labels!['job-name']).toBe('pi');
    expect(validateCreate(out)).toEqual([]);
  });

  it('starts pods Pending with their QoS class', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1', memory: '1Gi' } } }] }, status: { phase: 'Running' } };
    const out = prepareForCreate(info('pods'), pod, { uid: 'u', now: new Date(now) });
    expect(out.status).toEqual({ phase: 'Pending', qosClass: 'Guaranteed' });
    expect(out.metadata.generation).toBe(1);
  });

  it('keeps a registering node its status, folds Secret stringData, leaves generation off untracked kinds', () => {
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { capacity: { cpu: '4' } } };
    expect(prepareForCreate(info('nodes'), node, { uid: 'u', now }).status).toEqual({ capacity: { cpu: '4' }, allocatable: { cpu: '4' } });
    const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, stringData: { password: 'pw' } };
    const stored = prepareForCreate(info('secrets'), secret, { uid: 'u', now });
    expect(stored.data).toEqual({ password: 'cHc=' });
    expect(stored.stringData).toBeUndefined();
    expect(stored.type).toBe('Opaque');
    const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', generation: 3 } };
    expect(prepareForCreate(info('configmaps'), cm, { uid: 'u', now }).metadata.generation).toBeUndefined();
  });
});

describe('prepareForUpdate and prepareForStatusUpdate', () => {
  const stored = (): Deployment => ({
    ...prepareForCreate(info('deployments'), deployment(1), { uid: 'u-1', now }),
    status: { replicas: 1, readyReplicas: 1 },
  });

  it('bumps generation on a spec change, keeps status and identity', () => {
    const current = stored();
    const updated: Deployment = { ...deployment(3), status: { replicas: 0 }, metadata: { ...deployment().metadata, resourceVersion: '5' } };
    const out = prepareForUpdate(info('deployments'), updated, current);
    expect(out.metadata).toMatchObject({ uid: 'u-1', creationTimestamp: '2024-01-02T03:04:05Z', generation: 2, resourceVersion: '5' });
    expect(out.status).toEqual({ replicas: 1, readyReplicas: 1 });
    expect(out.spec!.replicas).toBe(3);
  });

  it('does not bump generation for label changes or a client-set generation', () => {
    const current = stored();
    const updated = { ...current, metadata: { ...current.metadata, labels: { team: 'a' }, generation: 42 } };
    expect(prepareForUpdate(info('deployments'), updated, current).metadata.generation).toBe(1);
  });

  it('keeps deletion marks as stored', () => {
    const current: Deployment = { ...stored(), metadata: { ...stored().metadata, deletionTimestamp: '2024-01-02T03:05:00Z', deletionGracePeriodSeconds: 0 } };
    const updated: Deployment = { ...current, metadata: { ...current.metadata, deletionTimestamp: undefined, deletionGracePeriodSeconds: undefined } };
    const out = prepareForUpdate(info('deployments'), updated, current);
    expect(out.metadata.deletionTimestamp).toBe('2024-01-02T03:05:00Z');
    expect(out.metadata.deletionGracePeriodSeconds).toBe(0);
  });

  it('a status write changes only status', () => {
    const current = stored();
    const updated: Deployment = { ...deployment(7), status: { replicas: 7 }, metadata: { ...current.metadata, resourceVersion: '9', labels: { x: 'y' } } };
    const out = prepareForStatusUpdate(info('deployments'), updated, current);
    expect(out.spec!.replicas).toBe(1);
    expect(out.status).toEqual({ replicas: 7 });
    expect(out.metadata.labels).toBeUndefined();
    expect(out.metadata.resourceVersion).toBe('9');
  });
});

describe('podQOSClass', () => {
  const pod = (...resources: NonNullable<Pod['spec']>['containers'][number]['resources'][]): Pod => ({
    metadata: {},
    spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: 'i', resources: r })) },
  });
  it.each<[string, Pod, string]>([
    ['no resources', pod(undefined), 'BestEffort'],
    ['zero requests', pod({ requests: { cpu: '0' } }), 'BestEffort'],
    ['equal requests and limits', pod({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } }), 'Guaranteed'],
    ['requests below limits', pod({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }), 'Burstable'],
    ['only cpu limited', pod({ requests: { cpu: '1' }, limits: { cpu: '1' } }), 'Burstable'],
    ['one container unlimited', pod({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }, undefined), 'Burstable'],
  ])('%s → %s', (_name, p, qos) => expect(podQOSClass(p)).toBe(qos));
});

describe('generateName', () => {
  it('appends five characters from the unambiguous alphabet and fits 63', () => {
    let i = 0;
    const seq = [0, 0.5, 0.999, 0.1, 0.3];
    const name = generateName('web-', () => seq[i++ % seq.length]!);
    expect(name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(name).toBe('web-br9dl');
    expect(generateName('x'.repeat(80), () => 0)).toHaveLength(63);
  });
});
