// Cases for pod sandboxes and containers: run, status, list with filters, stop and
// remove (idempotent, NotFound afterwards), the container lifecycle with its zero-valued
// states and nanosecond timestamps, exit codes, and containers sharing a pod's network.
import { CriError, nanos } from '@keel/cri';
import { check } from '../errors';
import { inCidr, isIPv4 } from '../net';
import type { ConformanceCase } from '../suite';

const SLEEP = ['sleep', '3600'];

async function expectNotFound(what: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    check(CriError.is(err, 'NotFound'), `${what}: want NotFound, got ${String(err)}`);
    return;
  }
  check(false, `${what}: succeeded, want NotFound`);
}

export const podCases: ConformanceCase[] = [
  {
    name: 'sandbox/run-status',
    description: 'RunPodSandbox gives a ready pod with an IP from CNI, its hostname and DNS config',
    async run(f) {
      const pod = await f.runPod();
      const res = await f.client.podSandboxStatus(pod.id);
      const s = res.status;
      check(s, 'no status');
      check(s.state === 'SANDBOX_READY', `state ${s.state}, want SANDBOX_READY`);
      check(nanos(s.created_at) > 1_000_000_000_000_000_000n, `created_at ${s.created_at} is not nanoseconds`);
      check(s.metadata?.name === pod.config.metadata?.name, `metadata.name ${s.metadata?.name}`);
      check(s.labels['io.keel.conformance/run'] === f.opts.runId, 'labels not kept');
      const ip = s.network?.ip ?? '';
      check(isIPv4(ip), `pod IP "${ip}" is not an IPv4 address`);
      if (f.opts.podCidr) check(inCidr(ip, f.opts.podCidr), `pod IP ${ip} is outside the pod CIDR ${f.opts.podCidr}`);
      const c = await f.container(pod, 'probe', f.images.busybox, { command: SLEEP });
      const host = await f.exec(c, ['hostname']);
      check(host.stdout.trim() === pod.config.hostname, `hostname "${host.stdout.trim()}", want "${pod.config.hostname}"`);
      const resolv = (await f.exec(c, ['cat', '/etc/resolv.conf'])).stdout;
      for (const want of ['nameserver 127.0.0.53', 'search keel-conformance.svc.keel.local', 'options ndots:5']) {
        check(resolv.includes(want), `/etc/resolv.conf lacks "${want}": ${JSON.stringify(resolv)}`);
      }
    },
  },
  {
    name: 'sandbox/list-filters',
    description: 'ListPodSandbox filters by id, label and state (SANDBOX_READY is the zero value)',
    async run(f) {
      const a = await f.runPod({ labels: { 'io.keel.conformance/role': 'a' } });
      const b = await f.runPod({ labels: { 'io.keel.conformance/role': 'b' } });
      const byId = await f.client.listPodSandbox({ id: a.id });
      check(byId.length === 1 && byId[0]!.id === a.id, `filter by id gave ${byId.length} sandboxes`);
      const byLabel = await f.client.listPodSandbox({ label_selector: { 'io.keel.conformance/role': 'b', 'io.keel.conformance/run': f.opts.runId } });
      check(byLabel.length === 1 && byLabel[0]!.id === b.id, `filter by label gave ${byLabel.map((s) => s.id.slice(0, 12)).join(',')}`);
      await f.client.stopPodSandbox(b.id);
      const run = { 'io.keel.conformance/run': f.opts.runId, 'io.keel.conformance/case': 'sandbox-list-filters' };
      const ready = await f.client.listPodSandbox({ state: { state: 'SANDBOX_READY' }, label_selector: run });
      check(ready.some((s) => s.id === a.id) && !ready.some((s) => s.id === b.id), 'state filter SANDBOX_READY is wrong');
      check(ready.every((s) => s.state === 'SANDBOX_READY'), 'a listed sandbox is not ready');
      const notReady = await f.client.listPodSandbox({ state: { state: 'SANDBOX_NOTREADY' }, label_selector: run });
      check(notReady.length === 1 && notReady[0]!.id === b.id, `state filter SANDBOX_NOTREADY gave ${notReady.length}`);
      check(nanos(notReady[0]!.created_at) > 0n, 'created_at missing in list');
    },
  },
  {
    name: 'sandbox/stop-remove-idempotent',
    description: 'StopPodSandbox and RemovePodSandbox succeed twice; status is NotFound after removal',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'sleeper', f.images.busybox, { command: SLEEP });
      await f.client.stopPodSandbox(pod.id);
      await f.client.stopPodSandbox(pod.id);
      const stopped = await f.client.podSandboxStatus(pod.id);
      check(stopped.status?.state === 'SANDBOX_NOTREADY', `state after stop: ${stopped.status?.state}`);
      const cs = await f.status(c);
      check(cs.state === 'CONTAINER_EXITED', `container state after pod stop: ${cs.state}`);
      await f.client.removePodSandbox(pod.id);
      await f.client.removePodSandbox(pod.id);
      await f.client.stopPodSandbox(pod.id); // stop after remove: still not an error
      await expectNotFound('PodSandboxStatus after remove', () => f.client.podSandboxStatus(pod.id));
      await expectNotFound('ContainerStatus of a removed pod’s container', () => f.client.containerStatus(c));
    },
  },
  {
    name: 'container/lifecycle',
    description: 'create (CONTAINER_CREATED), start, status, list, stop with timeout, remove, remove again',
    async run(f) {
      const pod = await f.runPod();
      // It ignores SIGTERM, so stop has to kill it once the grace period is over.
      const stubborn = ['sh', '-c', 'trap "" TERM; while true; do sleep 0.2; done'];
      const id = await f.container(pod, 'main', f.images.busybox, { command: stubborn, createOnly: true });
      const created = await f.status(id);
      check(created.state === 'CONTAINER_CREATED', `state after create: ${created.state}`);
      check(nanos(created.created_at) > 0n && nanos(created.started_at) === 0n, 'created_at/started_at wrong before start');
      await f.client.startContainer(id);
      const running = await f.status(id);
      check(running.state === 'CONTAINER_RUNNING', `state after start: ${running.state}`);
      check(nanos(running.started_at) >= nanos(running.created_at), 'started_at before created_at');
      check(running.image_ref.startsWith('sha256:') || running.image_ref.includes('@sha256:'), `image_ref "${running.image_ref}"`);
      const listed = await f.client.listContainers({ pod_sandbox_id: pod.id, state: { state: 'CONTAINER_RUNNING' } });
      check(listed.length === 1 && listed[0]!.id === id, `list by pod and RUNNING gave ${listed.length}`);
      const none = await f.client.listContainers({ pod_sandbox_id: pod.id, state: { state: 'CONTAINER_CREATED' } });
      check(none.length === 0, 'list by CREATED (the zero value) matched a running container');
      const t0 = Date.now();
      await f.client.stopContainer(id, 1);
      const took = Date.now() - t0;
      const exited = await f.status(id);
      check(exited.state === 'CONTAINER_EXITED', `state after stop: ${exited.state}`);
      check(exited.exit_code === 137, `exit code after SIGKILL ${exited.exit_code}, want 137`);
      check(took >= 900 && took < 10_000, `stop with 1 s grace took ${took} ms`);
      check(nanos(exited.finished_at) >= nanos(exited.started_at), 'finished_at before started_at');
      await f.client.stopContainer(id, 0); // stopping a stopped container: fine
      await f.client.removeContainer(id);
      await f.client.removeContainer(id);
      await expectNotFound('ContainerStatus after remove', () => f.client.containerStatus(id));
    },
  },
  {
    name: 'container/exit-codes',
    description: 'exit 0, exit 1 and exit 2 are reported with their codes, reasons and finish times',
    async run(f) {
      const pod = await f.runPod();
      const ok = await f.container(pod, 'ok', f.images.jobOk);
      const fail = await f.container(pod, 'fail', f.images.jobFail);
      const crash = await f.container(pod, 'crash', f.images.crasher, { env: { CRASH_AFTER: '1' } });
      const want: [string, string, number, string][] = [
        [ok, 'job-ok', 0, 'Completed'],
        [fail, 'job-fail', 1, 'Error'],
        [crash, 'crasher', 2, 'Error'],
      ];
      for (const [id, what, code, reason] of want) {
        const s = await f.waitForState(id, 'CONTAINER_EXITED', 15_000);
        check(s.exit_code === code, `${what}: exit code ${s.exit_code}, want ${code}`);
        check(s.reason === reason, `${what}: reason "${s.reason}", want ${reason}`);
        check(nanos(s.finished_at) > nanos(s.started_at), `${what}: finished_at not after started_at`);
      }
    },
  },
  {
    name: 'pod/shared-network',
    description: 'containers of one pod share its network: one reaches the other on 127.0.0.1',
    async run(f) {
      const pod = await f.runPod();
      await f.container(pod, 'web', f.images.web);
      const client = await f.container(pod, 'client', f.images.busybox, { command: SLEEP });
      const body = await f.waitUntil(
        async () => {
          const r = await f.exec(client, ['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/'], 5);
          return r.exitCode === 0 && r.stdout.includes('hello from keel') ? r.stdout : undefined;
        },
        10_000,
        'the sidecar did not reach the web container on 127.0.0.1:8080',
      );
      check(body.includes('hello from keel'), `body ${JSON.stringify(body)}`);
      const ip = (await f.exec(client, ['sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'"])).stdout.trim();
      check(ip.startsWith(`${pod.ip}/`), `the sidecar sees eth0 as "${ip}", the pod's IP is ${pod.ip}`);
    },
  },
];
