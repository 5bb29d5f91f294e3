// Pod status from what the runtime shows, as kubelet's generateAPIPodStatus and getPhase
// compute it: one ContainerStatus per spec container (state waiting/running/terminated,
// lastState, restartCount, ready, started, image and IDs), the phase, the four conditions
// (keeping their lastTransitionTime when unchanged), podIP(s), hostIP and startTime.
// Sidecars (init containers with restartPolicy Always) count as initialized once started,
// count towards readiness, and not towards the phase: a pod whose main containers
// finished is Succeeded or Failed while its sidecars still run. Pure:
// the pod worker gathers an observation from CRI and its own probe and back-off state.
import { setCondition, type Container, type ContainerStatus, type Pod, type PodCondition, type PodPhase, type PodStatus } from '@keel/api';

/** One CRI container as the status needs it; times are ms since the epoch, 0 when unset. */
export interface ObservedContainer {
  id: string;
  name: string;
  attempt: number;
  state: 'created' | 'running' | 'exited' | 'unknown';
  exitCode: number;
  reason: string;
  message: string;
  startedAt: number;
  finishedAt: number;
  imageRef: string;
}

/** What the worker knows of one spec container. */
export interface ContainerView {
  /** The newest attempt. */
  current?: ObservedContainer;
  /** The attempt before it, for lastState. */
  previous?: ObservedContainer;
  /** Why it is not running when the worker knows better than CRI (ErrImagePull, CrashLoopBackOff, …). */
  waiting?: { reason: string; message?: string };
  /** Readiness probe (true when there is none). */
  ready: boolean;
  /** Startup probe passed (true when there is none). */
  started: boolean;
}

export interface PodObservation {
  podIP?: string;
  hostIP: string;
  /** When the agent first started working on the pod (RFC 3339). */
  startTime: string;
  init: Map<string, ContainerView>;
  containers: Map<string, ContainerView>;
}

const time = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const containerIdPrefix = 'containerd://';

function terminated(c: ObservedContainer): NonNullable<ContainerStatus['state']> {
  return {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      ...(c.message ? { message: c.message } : {}),
      ...(c.startedAt ? { startedAt: time(c.startedAt) } : {}),
      ...(c.finishedAt ? { finishedAt: time(c.finishedAt) } : {}),
      containerID: containerIdPrefix + c.id,
    },
  };
}

/** The status of one container; `notYet` is the waiting reason before its first start. */
export function containerStatus(spec: Container, view: ContainerView | undefined, notYet: string): ContainerStatus {
  const cur = view?.current;
  const status: ContainerStatus = {
    name: spec.name,
    state: { waiting: { reason: notYet } },
    ready: false,
    restartCount: cur?.attempt ?? 0,
    image: spec.image ?? '',
    imageID: cur?.imageRef ?? '',
    started: false,
  };
  if (cur) status.containerID = containerIdPrefix + cur.id;
  if (view?.previous && view.previous.state === 'exited') status.lastState = terminated(view.previous);
  if (cur?.state === 'running') {
    status.state = { running: cur.startedAt ? { startedAt: time(cur.startedAt) } : {} };
    status.ready = view!.ready && view!.started;
    status.started = view!.started;
  } else if (cur?.state === 'exited') {
    if (view?.waiting) {
      // Waiting to restart (CrashLoopBackOff): the exit just seen is the last state.
      status.state = { waiting: { reason: view.waiting.reason, ...(view.waiting.message ? { message: view.waiting.message } : {}) } };
      status.lastState = terminated(cur);
    } else {
      status.state = terminated(cur);
    }
  } else if (view?.waiting) {
    status.state = { waiting: { reason: view.waiting.reason, ...(view.waiting.message ? { message: view.waiting.message } : {}) } };
  } else if (cur?.state === 'created') {
    status.state = { waiting: { reason: 'ContainerCreating' } };
  }
  return status;
}

const succeeded = (s: ContainerStatus) => s.state?.terminated?.exitCode === 0;

/** An init container that keeps running beside the pod's containers (restartPolicy Always). */
export function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

/** A sidecar that has started once stays initialized, even while it restarts. */
const sidecarStarted = (s: ContainerStatus) => !!s.started || !!s.lastState?.terminated || !!s.state?.terminated;

/** Initialized: every init container has exited 0 (in order), every sidecar has started. */
export function initDone(pod: Pod, init: ContainerStatus[]): boolean {
  return (pod.spec?.initContainers ?? []).every((c) => {
    const s = init.find((x) => x.name === c.name);
    if (!s) return false;
    if (isSidecar(c)) return sidecarStarted(s);
    return succeeded(s) || (s.lastState?.terminated?.exitCode === 0 && !s.state?.terminated);
  });
}

/** kubelet's getPhase. */
export function podPhase(pod: Pod, init: ContainerStatus[], containers: ContainerStatus[]): PodPhase {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (!initDone(pod, init)) {
    const sidecars = new Set((pod.spec?.initContainers ?? []).filter(isSidecar).map((c) => c.name));
    const failedInit = init.some((s) => !sidecars.has(s.name) && ((s.state?.terminated?.exitCode ?? 0) !== 0 || (s.lastState?.terminated?.exitCode ?? 0) !== 0));
    return failedInit && policy === 'Never' ? 'Failed' : 'Pending';
  }
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let failed = 0;
  let ok = 0;
  for (const s of containers) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) ok++;
      else failed++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (policy === 'OnFailure') return ok === containers.length ? 'Succeeded' : 'Running';
    return failed > 0 ? 'Failed' : 'Succeeded';
  }
  return 'Pending';
}

/** The whole status, given the pod as stored (its conditions keep their transition times). */
export function computePodStatus(pod: Pod, obs: PodObservation, now: number): PodStatus {
  const spec = pod.spec!;
  const init = (spec.initContainers ?? []).map((c) => containerStatus(c, obs.init.get(c.name), 'PodInitializing'));
  const initialized = initDone(pod, init);
  // Init containers that succeeded show Completed even when CRI has removed them.
  const containers = spec.containers.map((c) => containerStatus(c, obs.containers.get(c.name), initialized ? 'ContainerCreating' : 'PodInitializing'));
  const phase = podPhase(pod, init, containers);
  const terminal = phase === 'Succeeded' || phase === 'Failed';

  let conditions: PodCondition[] = pod.status?.conditions ?? [];
  const set = (c: PodCondition) => (conditions = setCondition(conditions, c, now));
  const sidecars = new Set((spec.initContainers ?? []).filter(isSidecar).map((c) => c.name));
  const pendingInit = init.filter((s) => (sidecars.has(s.name) ? !sidecarStarted(s) : !succeeded(s))).map((s) => s.name);
  set(initialized ? { type: 'Initialized', status: 'True' } : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${pendingInit.join(' ')}]` });
  const unready = [...init.filter((s) => sidecars.has(s.name)), ...containers].filter((s) => !s.ready).map((s) => s.name);
  const ready: PodCondition = terminal
    ? { type: 'Ready', status: 'False', reason: 'PodCompleted' }
    : unready.length === 0
      ? { type: 'Ready', status: 'True' }
      : { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  set(ready);
  set({ ...ready, type: 'ContainersReady' });
  set({ type: 'PodScheduled', status: 'True' });

  const status: PodStatus = {
    ...pod.status,
    phase,
    conditions,
    hostIP: obs.hostIP,
    hostIPs: [{ ip: obs.hostIP }],
    startTime: pod.status?.startTime ?? obs.startTime,
    containerStatuses: containers,
  };
  if (init.length) status.initContainerStatuses = init;
  else delete status.initContainerStatuses;
  if (obs.podIP) {
    status.podIP = obs.podIP;
    status.podIPs = [{ ip: obs.podIP }];
  }
  return status;
}

/** What kubectl prints in STATUS for a pod (its printer's rules, enough for tests and logs). */
export function kubectlStatus(pod: Pod): string {
  const st = pod.status ?? {};
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = st.reason || st.phase || 'Unknown';
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter(isSidecar).map((c) => c.name));
  for (const [i, s] of (st.initContainerStatuses ?? []).entries()) {
    if (s.state?.terminated?.exitCode === 0) continue;
    if (sidecars.has(s.name) && s.started) continue;
    if (s.state?.terminated) return `Init:${s.state.terminated.reason || `ExitCode:${s.state.terminated.exitCode}`}`;
    if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing') return `Init:${s.state.waiting.reason}`;
    return `Init:${i}/${st.initContainerStatuses!.length}`;
  }
  let running = false;
  for (const s of [...(st.containerStatuses ?? [])].reverse()) {
    if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
    else if (s.state?.terminated) reason = s.state.terminated.reason || `ExitCode:${s.state.terminated.exitCode}`;
    else if (s.state?.running && s.ready) running = true;
  }
  if (reason === 'Completed' && running) reason = 'Running';
  return reason;
}
