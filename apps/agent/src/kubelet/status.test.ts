import type { Pod } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { computePodStatus, kubectlStatus, type ContainerView, type ObservedContainer } from './status';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function pod(restartPolicy: 'Always' | 'OnFailure' | 'Never', init = false): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: {
      restartPolicy,
      ...(init ? { initContainers: [{ name: 'setup', image: 'busybox' }] } : {}),
      containers: [{ name: 'app', image: 'keel/web:1.0' }],
    },
  };
}

const c = (over: Partial<ObservedContainer>): ObservedContainer => ({
  id: 'abc',
  name: 'app',
  attempt: 0,
  state: 'running',
  exitCode: 0,
  reason: '',
  message: '',
  startedAt: T0,
  finishedAt: 0,
  imageRef: 'sha256:1',
  ...over,
});

const view = (v: Partial<ContainerView>): ContainerView => ({ ready: true, started: true, ...v });

function status(p: Pod, containers: Record<string, ContainerView>, init: Record<string, ContainerView> = {}) {
  const s = computePodStatus(p, { podIP: '10.244.0.5', hostIP: '127.0.0.1', startTime: '2026-01-01T00:00:00Z', init: new Map(Object.entries(init)), containers: new Map(Object.entries(containers)) }, T0 + 5_000);
  return { ...p, status: s };
}

describe('pod status', () => {
  it('a running, ready container: Running, Ready, 1/1', () => {
    const p = status(pod('Always'), { app: view({ current: c({}) }) });
    expect(p.status.phase).toBe('Running');
    expect(p.status.containerStatuses).toEqual([
      { name: 'app', state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, ready: true, started: true, restartCount: 0, image: 'keel/web:1.0', imageID: 'sha256:1', containerID: 'containerd://abc' },
    ]);
    expect(p.status.conditions!.map((x) => [x.type, x.status])).toEqual([
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
    expect(p.status).toMatchObject({ podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }], hostIP: '127.0.0.1', startTime: '2026-01-01T00:00:00Z' });
    expect(kubectlStatus(p)).toBe('Running');
  });

  it('not ready until the readiness probe passes', () => {
    const p = status(pod('Always'), { app: view({ current: c({}), ready: false }) });
    expect(p.status.phase).toBe('Running');
    expect(p.status.conditions!.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
  });

  it('exit 0 with Never: Succeeded, Completed', () => {
    const p = status(pod('Never'), { app: view({ current: c({ state: 'exited', exitCode: 0, finishedAt: T0 + 1000 }) }) });
    expect(p.status.phase).toBe('Succeeded');
    expect(p.status.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed', finishedAt: '2026-01-01T00:00:01Z' });
    expect(p.status.conditions!.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(kubectlStatus(p)).toBe('Completed');
  });

  it('exit 1 with Never: Failed with the exit code; with OnFailure: still Running', () => {
    const exited = view({ current: c({ state: 'exited', exitCode: 1 }) });
    const never = status(pod('Never'), { app: exited });
    expect(never.status.phase).toBe('Failed');
    expect(never.status.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(kubectlStatus(never)).toBe('Error');
    expect(status(pod('OnFailure'), { app: exited }).status.phase).toBe('Running');
    expect(status(pod('OnFailure'), { app: view({ current: c({ state: 'exited', exitCode: 0 }) }) }).status.phase).toBe('Succeeded');
  });

  it('CrashLoopBackOff: waiting, the last exit as lastState, restarts counted', () => {
    const p = status(pod('Always'), {
      app: view({ current: c({ id: 'new', attempt: 3, state: 'exited', exitCode: 2 }), previous: c({ id: 'old', attempt: 2, state: 'exited', exitCode: 2 }), waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }),
    });
    const s = p.status.containerStatuses![0]!;
    expect(s.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } });
    expect(s.lastState!.terminated).toMatchObject({ exitCode: 2, containerID: 'containerd://new' });
    expect(s.restartCount).toBe(3);
    expect(p.status.phase).toBe('Running');
    expect(kubectlStatus(p)).toBe('CrashLoopBackOff');
  });

  it('image pull errors: Pending, ErrImagePull', () => {
    const p = status(pod('Always'), { app: view({ waiting: { reason: 'ErrImagePull', message: 'not found' } }) });
    expect(p.status.phase).toBe('Pending');
    expect(kubectlStatus(p)).toBe('ErrImagePull');
  });

  it('init containers gate the others: PodInitializing, then Initialized', () => {
    const running = status(pod('Always', true), {}, { setup: view({ current: c({ name: 'setup' }) }) });
    expect(running.status.phase).toBe('Pending');
    expect(running.status.containerStatuses![0]!.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(running.status.conditions!.find((x) => x.type === 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [setup]' });
    expect(kubectlStatus(running)).toBe('Init:0/1');
    const done = status(pod('Always', true), { app: view({ current: c({}) }) }, { setup: view({ current: c({ name: 'setup', state: 'exited' }) }) });
    expect(done.status.phase).toBe('Running');
    expect(done.status.initContainerStatuses![0]!.state!.terminated!.reason).toBe('Completed');
    const failed = status(pod('Never', true), {}, { setup: view({ current: c({ name: 'setup', state: 'exited', exitCode: 3 }) }) });
    expect(failed.status.phase).toBe('Failed');
    expect(kubectlStatus(failed)).toBe('Init:Error');
  });

  it('sidecars: initialized once started, counted for readiness, not for the phase', () => {
    const withSidecar = (policy: 'Always' | 'Never'): Pod => {
      const p = pod(policy);
      p.spec!.initContainers = [{ name: 'proxy', image: 'busybox', restartPolicy: 'Always' }];
      return p;
    };
    const starting = status(withSidecar('Never'), {}, { proxy: view({ current: c({ name: 'proxy' }), started: false, ready: false }) });
    expect(starting.status.conditions!.find((x) => x.type === 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [proxy]' });
    expect(kubectlStatus(starting)).toBe('Init:0/1');
    const unready = status(withSidecar('Never'), { app: view({ current: c({}) }) }, { proxy: view({ current: c({ name: 'proxy' }), ready: false }) });
    expect(unready.status.conditions!.find((x) => x.type === 'Initialized')!.status).toBe('True');
    expect(unready.status.conditions!.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', message: 'containers with unready status: [proxy]' });
    expect(kubectlStatus(unready)).toBe('Running');
    // Main done, sidecar still running: the pod has Succeeded.
    const done = status(withSidecar('Never'), { app: view({ current: c({ state: 'exited' }) }) }, { proxy: view({ current: c({ name: 'proxy' }) }) });
    expect(done.status.phase).toBe('Succeeded');
    // A sidecar that crashed and waits to restart keeps the pod initialized and does not fail a Never pod.
    const crashed = status(withSidecar('Never'), { app: view({ current: c({}) }) }, { proxy: view({ current: c({ name: 'proxy', state: 'exited', exitCode: 1, attempt: 1 }), waiting: { reason: 'CrashLoopBackOff' } }) });
    expect(crashed.status.phase).toBe('Running');
    expect(crashed.status.conditions!.find((x) => x.type === 'Initialized')!.status).toBe('True');
  });

  it('keeps lastTransitionTime of conditions that did not change', () => {
    const first = status(pod('Always'), { app: view({ current: c({}) }) });
    const again = computePodStatus(first, { hostIP: '127.0.0.1', startTime: 'x', init: new Map(), containers: new Map([['app', view({ current: c({}) })]]) }, T0 + 60_000);
    expect(again.conditions).toEqual(first.status.conditions);
    expect(again.startTime).toBe('2026-01-01T00:00:00Z');
  });
});
