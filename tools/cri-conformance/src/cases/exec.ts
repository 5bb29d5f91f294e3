// Cases for running commands in containers: ExecSync (output, exit code, its timeout),
// and the streaming URLs over WebSocket: exec with stdin, exec with a TTY and a resize,
// attach to a container's own stdin and stdout, and port-forward into a pod.
import { CriError, ExecSession, PortForwardSession, forwardLocalPort } from '@keel/cri';
import { check } from '../errors';
import { httpGet } from '../net';
import type { ConformanceCase } from '../suite';

const SLEEP = ['sleep', '3600'];

export const execCases: ConformanceCase[] = [
  {
    name: 'exec/sync',
    description: 'ExecSync returns stdout, stderr and the exit code (zero and non-zero)',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'main', f.images.busybox, { command: SLEEP });
      const ok = await f.exec(c, ['sh', '-c', 'echo to-out; echo to-err >&2']);
      check(ok.exitCode === 0, `exit code ${ok.exitCode}, want 0`);
      check(ok.stdout === 'to-out\n', `stdout ${JSON.stringify(ok.stdout)}`);
      check(ok.stderr === 'to-err\n', `stderr ${JSON.stringify(ok.stderr)}`);
      const bad = await f.exec(c, ['sh', '-c', 'exit 7']);
      check(bad.exitCode === 7, `exit code ${bad.exitCode}, want 7`);
    },
  },
  {
    name: 'exec/sync-timeout',
    description: 'ExecSync stops a command that outlives its timeout and says so',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'main', f.images.busybox, { command: SLEEP });
      const t0 = Date.now();
      let outcome: string;
      try {
        const r = await f.client.execSync(c, ['sleep', '30'], 1, { timeoutMs: 15_000 });
        outcome = `exit code ${r.exit_code}`;
        check(r.exit_code !== 0, 'a command killed at its timeout reported success');
      } catch (err) {
        check(err instanceof CriError, String(err));
        check(err.code !== 'Timeout' || /timeout|deadline/i.test(err.message), `unexpected error ${err.message}`);
        outcome = err.message;
      }
      const took = Date.now() - t0;
      check(took < 10_000, `a 1 s exec timeout took ${took} ms to end (${outcome})`);
      check(took >= 900, `ended after ${took} ms, before its 1 s timeout (${outcome})`);
    },
  },
  {
    name: 'exec/stream-stdin',
    description: 'streaming Exec carries stdin, stdout and stderr apart, and the exit code',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'main', f.images.busybox, { command: SLEEP });
      const url = await f.client.exec({
        container_id: c,
        cmd: ['sh', '-c', 'read line; echo "got:$line"; echo "err:$line" >&2; exit 3'],
        stdin: true,
        stdout: true,
        stderr: true,
      });
      const session = await ExecSession.open(url, { timeoutMs: 10_000 });
      session.write('keel\n');
      const res = await session.done;
      check(res.stdout.toString() === 'got:keel\n', `stdout ${JSON.stringify(res.stdout.toString())}`);
      check(res.stderr.toString() === 'err:keel\n', `stderr ${JSON.stringify(res.stderr.toString())}`);
      check(res.exitCode === 3, `exit code ${res.exitCode}, want 3`);
    },
  },
  {
    name: 'exec/stream-tty-resize',
    description: 'streaming Exec with a TTY applies a resize and reports the exit code',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'main', f.images.busybox, { command: SLEEP });
      const url = await f.client.exec({ container_id: c, cmd: ['sh'], tty: true, stdin: true, stdout: true, stderr: false });
      const session = await ExecSession.open(url, { timeoutMs: 10_000 });
      session.resize(123, 45);
      // The resize travels apart from stdin; ask for the size until the shell sees it.
      const seen = await f.waitUntil(
        async () => {
          session.write('stty size\n');
          await new Promise((r) => setTimeout(r, 150));
          return /45 123/.test(session.stdout) ? session.stdout : undefined;
        },
        5_000,
        'the TTY never reported 45 rows and 123 columns',
      );
      check(seen.includes('\r\n'), 'TTY output has no CR LF line endings');
      session.write('exit 4\n');
      const res = await session.done;
      check(res.exitCode === 4, `exit code ${res.exitCode}, want 4`);
    },
  },
  {
    name: 'attach',
    description: "Attach reaches a running container's own stdin and stdout",
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'echoer', f.images.busybox, {
        command: ['sh', '-c', 'echo ready; while read line; do echo "echo:$line"; done'],
        stdin: true,
      });
      await f.waitForState(c, 'CONTAINER_RUNNING', 5_000);
      const url = await f.client.attach({ container_id: c, stdin: true, stdout: true, stderr: true, tty: false });
      const session = await ExecSession.open(url, { what: 'attach', timeoutMs: 10_000 });
      session.write('hello\n');
      await session.waitForOutput('echo:hello', 5_000);
      session.write('again\n');
      await session.waitForOutput('echo:again', 5_000);
      session.close();
      await session.done;
      const still = await f.status(c);
      check(still.state === 'CONTAINER_RUNNING', `detaching stopped the container (${still.state})`);
    },
  },
  {
    name: 'port-forward',
    description: "PortForward (WebSocket, v4.channel.k8s.io) reaches a port on the pod's loopback",
    async run(f) {
      const pod = await f.runPod();
      await f.container(pod, 'web', f.images.web);
      // Each forwarded connection needs its own URL: try until the server listens.
      const body = await f.waitUntil(
        async () => {
          const url = await f.client.portForward(pod.id, [8080]);
          const session = await PortForwardSession.open(url, 8080, { connectTimeoutMs: 5_000 });
          try {
            session.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
            return await session.waitForData('hello from keel', 3_000);
          } finally {
            session.close();
          }
        },
        10_000,
        'no answer from port 8080 through port-forward',
      );
      check(/^HTTP\/1\.[01] 200/.test(body), `response starts ${JSON.stringify(body.slice(0, 40))}`);
      // As `kubectl port-forward` uses it: a local port, a new forward per connection.
      const local = await forwardLocalPort(() => f.client.portForward(pod.id, [8080]), 8080);
      try {
        for (let i = 0; i < 2; i++) {
          const res = await httpGet(`http://127.0.0.1:${local.port}/`, 5_000);
          check(res.status === 200 && res.body.includes('hello from keel'), `local forward answered ${res.status} ${JSON.stringify(res.body)}`);
        }
      } finally {
        await local.close();
      }
    },
  },
];
