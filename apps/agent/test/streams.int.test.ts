// Integration: pod streams end to end — real kubectl (1.33 and 1.20), the `ws` package and
// @kubernetes/client-node → keel-apiserver over TLS with client certificates and RBAC →
// the node's agent → containerd 1.6's stream server. exec with both output streams and
// the exit code, exec -i with piped stdin, exec -it in a pseudo-terminal with a resize,
// -c container, port-forward with an HTTP GET through the local port (1.33: over its
// WebSocket tunnel, no fallback), exec over WebSocket v4 and v5 (stdin ended with
// [255, 0], 10 MB of output whole), attach and port-forward over WebSocket, and the
// refusals (no such pod → 404 Status, a user with only `get` on pods/exec → 403 naming the
// RBAC reason, bad requests → 400). The agent's node endpoint itself is HTTPS with client
// certificates: no certificate or one from another CA → 401 (exec upgrades too), a
// verified but unauthorized user → 403, kube-apiserver-kubelet-client → the logs; kubectl
// logs through the apiserver. Everything is torn down afterwards.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as pty from 'node-pty';
import { createCa, issueCert } from '@keel/pki';
import { ensureKubectl, runKubectl, type KubectlResult, type KubectlVersion } from '@keel/tools-kubectl';
import { eventually as eventuallyWithin, startStreamNode, type StreamNode } from './stream-node';

let node: StreamNode | undefined;
const kubectlPaths: Partial<Record<KubectlVersion, string>> = {};
const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => eventuallyWithin(what, check, timeoutMs, node?.logs);

beforeAll(async () => {
  for (const v of ['1.33', '1.20'] as const) kubectlPaths[v] = ensureKubectl(v);
  node = await startStreamNode({ node: 'keel-st-node', podCidr: '10.244.234.0/24', bridge: 'keel-st0' });
}, 300_000);

afterAll(async () => {
  const report = await node?.stop();
  expect(report?.problems ?? []).toEqual([]);
}, 120_000);

/** kubectl as a child process (asynchronous: the agent runs in this process and must keep serving). */
function kubectl(version: KubectlVersion, args: string[], opts: { as?: 'admin' | 'bob'; stdin?: string } = {}): Promise<KubectlResult> {
  const argv = ['--cache-dir', join(node!.work, `cache-${version}`), '--request-timeout=30s', ...args];
  return runKubectl(kubectlPaths[version]!, argv, { kubeconfig: node!.users[opts.as ?? 'admin'].kubeconfig, input: opts.stdin });
}

/** A command in an 80×24 pseudo-terminal (TERM=xterm, no KUBECONFIG), with waits on what it has shown. */
function terminal(file: string, args: string[], env: Record<string, string> = {}) {
  const term = pty.spawn(file, args, { cols: 80, rows: 24, env: { ...process.env, KUBECONFIG: '', TERM: 'xterm', ...env } });
  let screen = '';
  term.onData((d) => (screen += d));
  const exited = new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
  const waitFor = (re: RegExp) => eventually(`${re} on the terminal (so far ${JSON.stringify(screen)})`, async () => (re.test(screen) ? true : undefined), 20_000);
  /** Resizes to 100×30; the resize travels on its own stream, so ask `stty size` until the shell sees it. */
  const resizeSeen = async () => {
    term.resize(100, 30);
    await eventually('the resize', async () => {
      term.write('stty size\r');
      await new Promise((r) => setTimeout(r, 300));
      return /^30 100\r?$/m.test(screen) ? true : undefined;
    }, 20_000);
  };
  return { term, exited, waitFor, resizeSeen };
}

function httpGet(url: string): Promise<string> {
  return new Promise((ok, fail) => {
    get(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok(body));
    }).on('error', fail);
  });
}

for (const version of ['1.33', '1.20'] as KubectlVersion[]) {
  describe(`kubectl ${version} through the apiserver`, () => {
    it('exec: stdout and stderr apart, and the exit code', async () => {
      const res = await kubectl(version, ['exec', 'web', '-c', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(res).toMatchObject({ code: 3, stdout: 'out\n' });
      expect(res.stderr).toMatch(/^err\n/);
    });

    it('exec -i: piped stdin reaches the command, and its end too', async () => {
      const res = await kubectl(version, ['exec', '-i', 'web', '-c', 'web', '--', 'sh', '-c', 'wc -c; echo done'], { stdin: 'hello streams\n' });
      expect(res).toMatchObject({ code: 0, stdout: '14\ndone\n', stderr: '' });
    });

    it('exec -c picks the container', async () => {
      expect(await kubectl(version, ['exec', 'web', '-c', 'side', '--', 'sh', '-c', 'echo $WHO'])).toMatchObject({ code: 0, stdout: 'side\n' });
      expect(await kubectl(version, ['exec', 'web', '-c', 'web', '--', 'sh', '-c', 'echo $WHO'])).toMatchObject({ code: 0, stdout: 'web\n' });
    });

    it('exec -it: a terminal that follows resizes', async () => {
      const { term, exited, waitFor, resizeSeen } = terminal(kubectlPaths[version]!, ['--kubeconfig', node!.users.admin.kubeconfig, '--cache-dir', join(node!.work, `cache-${version}`), 'exec', '-it', 'web', '-c', 'web', '--', 'sh']);
      try {
        // The prompt (busybox ash follows it with a cursor-position query, ESC [6n).
        await waitFor(/\/www # /);
        term.write('echo $((6*7))\r');
        await waitFor(/^42\r?$/m);
        term.write('stty size\r');
        await waitFor(/^24 80\r?$/m);
        await resizeSeen();
        term.write('exit\r');
        expect(await exited).toBe(0);
      } finally {
        term.kill();
      }
    });

    it('port-forward: an HTTP GET through the local port reaches the pod', async () => {
      const child = spawn(kubectlPaths[version]!, ['--kubeconfig', node!.users.admin.kubeconfig, '--cache-dir', join(node!.work, `cache-${version}`), 'port-forward', 'pod/web', ':8080', ...(version === '1.33' ? ['-v=4'] : [])], {
        env: { ...process.env, KUBECONFIG: '' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      try {
        const port = await eventually(`port-forward to listen (stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)})`, async () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1], 20_000);
        expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe('hello from keel\n');
        // A second connection is a second stream pair on the same session.
        expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe('hello from keel\n');
        // 1.33 tunnels SPDY in a WebSocket (SPDY/3.1+portforward.k8s.io), which the agent relays.
        if (version === '1.33') {
          expect(err).toContain('negotiated protocol: portforward.k8s.io');
          expect(err).not.toMatch(/fallback/i);
        }
      } finally {
        child.kill('SIGTERM');
      }
    });

    if (version === '1.33') {
      it('speaks WebSocket v5.channel.k8s.io, with no fallback to SPDY', async () => {
        const res = await kubectl(version, ['-v=4', 'exec', 'web', '-c', 'web', '--', 'true']);
        expect(res.code).toBe(0);
        expect(res.stderr).toContain('The subprotocol is v5.channel.k8s.io');
        expect(res.stderr).not.toMatch(/fallback/i);
      });
    }

    it('refuses a user RBAC allows only `get` on pods/exec, naming the reason', async () => {
      const res = await kubectl(version, ['exec', 'web', '-c', 'web', '--', 'true'], { as: 'bob' });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"');
    });
  });
}

/** A WebSocket to the apiserver with the admin's (or bob's) client certificate. */
function openExec(path: string, protocols: string[], as: 'admin' | 'bob' = 'admin'): Promise<WebSocket> {
  const files = node!.users[as];
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`${node!.apiUrl.replace('https', 'wss')}${path}`, protocols, {
      ca: readFileSync(node!.pki.ca.certFile),
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
    });
    ws.once('open', () => ok(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => fail(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode, body: JSON.parse(body) as unknown })));
    });
    ws.once('error', fail);
  });
}

describe('WebSocket clients through the apiserver', () => {
  it('v4.channel.k8s.io with the ws package: an interactive shell on a tty', async () => {
    const ws = await openExec('/api/v1/namespaces/default/pods/web/exec?container=web&command=sh&stdin=true&stdout=true&tty=true', ['v4.channel.k8s.io']);
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    let out = '';
    let status: { status?: string } | undefined;
    ws.on('message', (frame: Buffer) => {
      if (frame[0] === 1) out += frame.subarray(1).toString();
      if (frame[0] === 3 && frame.length > 1) status = JSON.parse(frame.subarray(1).toString()) as { status?: string };
    });
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    const send = (text: string) => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(text)]));
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 120, Height: 40 }))]));
    send('echo $((6*7)); stty size\r');
    await eventually(`42 and the size (so far ${JSON.stringify(out)})`, async () => (/^42\r?$/m.test(out) && /^40 120\r?$/m.test(out) ? true : undefined), 20_000);
    send('exit 0\r');
    await closed;
    expect(status).toMatchObject({ status: 'Success' });
  });

  it('v5.channel.k8s.io with the ws package: stdin ends with [255, 0], and 10 MB of output arrive whole', async () => {
    const ws = await openExec(`/api/v1/namespaces/default/pods/web/exec?container=web&${['sh', '-c', 'wc -c; head -c 10000000 /dev/zero'].map((c) => `command=${encodeURIComponent(c)}`).join('&')}&stdin=true&stdout=true`, ['v5.channel.k8s.io']);
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    const out: Buffer[] = [];
    let status: { status?: string } | undefined;
    ws.on('message', (frame: Buffer) => {
      if (frame[0] === 1) out.push(Buffer.from(frame.subarray(1)));
      if (frame[0] === 3) status = JSON.parse(frame.subarray(1).toString()) as { status?: string };
    });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello')]));
    ws.send(Buffer.from([255, 0]));
    expect(await closed).toBe(1000);
    const all = Buffer.concat(out);
    expect(all.subarray(0, 2).toString()).toBe('5\n');
    expect(all.length).toBe(2 + 10_000_000);
    expect(status).toMatchObject({ status: 'Success' });
  });

  it('@kubernetes/client-node Exec (offers v5..v1): output and the exit status', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(node!.users.admin.kubeconfig);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const status = await new Promise<{ status?: string; details?: { causes?: { message?: string }[] } }>((ok, fail) => {
      new k8s.Exec(kc)
        .exec('default', 'web', 'web', ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdout, stderr, null, false, (s) => ok(s as never))
        .catch(fail);
    });
    expect(out).toBe('out\n');
    expect(err).toBe('err\n');
    expect(status.status).toBe('Failure');
    expect(status.details?.causes?.[0]?.message).toBe('3');
  });

  it('answers 404 with a Status for a pod that does not exist, and 403 for a user without create', async () => {
    const missing = await openExec('/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true', ['v4.channel.k8s.io']).catch((e: unknown) => e);
    expect(missing).toMatchObject({ statusCode: 404, body: { kind: 'Status', reason: 'NotFound', code: 404, message: 'pods "nope" not found' } });
    const forbidden = await openExec('/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true', ['v4.channel.k8s.io'], 'bob').catch((e: unknown) => e);
    expect(forbidden).toMatchObject({
      statusCode: 403,
      body: { kind: 'Status', reason: 'Forbidden', code: 403, message: 'pods "web" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"' },
    });
  });

  it('answers 400 for a pod on no node, a container the pod lacks, no command, a bad port, and a request without an upgrade', async () => {
    const created = await kubectl('1.33', ['run', 'idle', '--image=keel/none', '--restart=Never']);
    expect(created).toMatchObject({ code: 0, stdout: 'pod/idle created\n' });
    const refused = (path: string) => openExec(path, ['v4.channel.k8s.io']).catch((e: { statusCode: number; body: { message: string } }) => [e.statusCode, e.body.message]);
    expect(await refused('/api/v1/namespaces/default/pods/idle/exec?command=true&stdout=true')).toEqual([400, 'pod idle is not assigned to a node yet']);
    expect(await refused('/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true&container=nope')).toEqual([400, 'container nope is not valid for pod web']);
    expect(await refused('/api/v1/namespaces/default/pods/web/exec?stdout=true&container=web')).toEqual([400, 'you must specify at least 1 command']);
    expect(await refused('/api/v1/namespaces/default/pods/web/portforward?ports=99999')).toEqual([400, 'invalid port "99999": ports must be 1-65535']);
    // Without an upgrade: the Status a plain POST gets.
    const plain = await new Promise<{ code?: number; body: string }>((ok, fail) => {
      const admin = node!.users.admin;
      const url = new URL(`${node!.apiUrl}/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true&container=web`);
      request(url, { method: 'POST', ca: readFileSync(node!.pki.ca.certFile), cert: readFileSync(admin.certFile), key: readFileSync(admin.keyFile) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => ok({ code: res.statusCode, body }));
      })
        .on('error', fail)
        .end();
    });
    expect(plain.code).toBe(400);
    expect(JSON.parse(plain.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'Upgrade request required' });
  });

  it('port-forward over WebSocket v4 (?ports=8080): an HTTP exchange on the data channel', async () => {
    const ws = await openExec('/api/v1/namespaces/default/pods/web/portforward?ports=8080', ['v4.channel.k8s.io']);
    const seen = [false, false];
    let data = '';
    let error = '';
    ws.on('message', (frame: Buffer) => {
      const channel = frame[0]!;
      let payload = frame.subarray(1);
      // The first frame of each channel starts with the port (uint16 little-endian).
      if (channel < 2 && !seen[channel] && payload.length >= 2) {
        expect(payload.readUInt16LE(0)).toBe(8080);
        seen[channel] = true;
        payload = payload.subarray(2);
      }
      if (channel === 0) data += payload.toString();
      if (channel === 1) error += payload.toString();
    });
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('GET / HTTP/1.0\r\n\r\n')]));
    // HTTP/1.0: the server closes the connection after answering, which ends the session.
    await eventually(`the answer (so far ${JSON.stringify(data)})`, async () => (data.endsWith('hello from keel\n') ? true : undefined), 20_000);
    expect(data).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    expect(error).toBe('');
    ws.close(1000);
    await closed;
  });

  it('attach (WebSocket v4): the container\'s output as it writes it', async () => {
    const ws = await openExec('/api/v1/namespaces/default/pods/web/attach?container=web&stdout=true&stderr=true', ['v4.channel.k8s.io']);
    let err = '';
    ws.on('message', (frame: Buffer) => {
      if (frame[0] === 2) err += frame.subarray(1).toString();
    });
    try {
      // busybox httpd -v logs each request on stderr; make one from the pod's other container.
      const probe = await kubectl('1.33', ['exec', 'web', '-c', 'side', '--', 'sh', '-c', 'wget -q -O /dev/null http://127.0.0.1:8080/attach-probe; true']);
      expect(probe.code).toBe(0);
      await eventually(`the request in the attached output (so far ${JSON.stringify(err)})`, async () => (/response:404/.test(err) ? true : undefined), 20_000);
    } finally {
      ws.close(1000);
    }
  });
});

/** A GET on the agent's node endpoint, trusting the cluster CA, with the given client certificate (or none). */
function agentGet(path: string, client?: { certFile: string; keyFile: string }): Promise<{ code: number; body: string }> {
  return new Promise((ok, fail) => {
    const tls = { ca: readFileSync(node!.pki.ca.certFile), ...(client ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) } : {}) };
    const req = request(`${node!.agentUrl}${path}`, { ...tls, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ code: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer`)));
    req.on('error', fail);
    req.end();
  });
}

describe("the agent's node endpoint (HTTPS with client certificates)", () => {
  const logsPath = '/containerLogs/default/web/web?tailLines=50';

  it('answers 401 without a client certificate, for logs and for an exec upgrade alike; /healthz stays open', async () => {
    expect(await agentGet('/healthz')).toEqual({ code: 200, body: 'ok' });
    const logs = await agentGet(logsPath);
    expect(logs).toEqual({ code: 401, body: 'Unauthorized: no client certificate\n' });
    const ws = new WebSocket(`${node!.agentUrl.replace('https', 'wss')}/exec/default/web/web?command=id&stdout=true`, ['v4.channel.k8s.io'], {
      ca: readFileSync(node!.pki.ca.certFile),
    });
    const code = await new Promise<number>((ok, fail) => {
      ws.on('unexpected-response', (_req, res) => ok(res.statusCode ?? 0));
      ws.on('open', () => fail(new Error('the exec upgrade was accepted without a client certificate')));
      ws.on('error', fail);
    });
    ws.terminate();
    expect(code).toBe(401);
  });

  it('answers 401 to the right name signed by another CA, and 403 to a verified user it does not authorize', async () => {
    const dir = join(node!.work, 'keel-other-ca');
    const otherCa = await createCa(dir, { cn: 'keel-other-ca' });
    const impostor = await issueCert(otherCa, dir, 'impostor', { cn: 'kube-apiserver-kubelet-client', groups: ['system:masters'], usage: 'client' });
    const refused = await agentGet(logsPath, impostor);
    expect(refused.code).toBe(401);
    expect(refused.body).toMatch(/^Unauthorized: client certificate not trusted/);
    // A node's own identity is signed by the cluster CA, but may not exec on other nodes' pods.
    const nodeClient = node!.pki.clients['node-keel-st-node']!;
    expect(await agentGet(logsPath, nodeClient)).toEqual({ code: 403, body: 'Forbidden: user "system:node:keel-st-node" (groups system:nodes) may not use the node endpoint (containerLogs)\n' });
  });

  it("serves kube-apiserver-kubelet-client, and kubectl logs through the apiserver (which calls it so)", async () => {
    // busybox httpd -v logs each request on stderr: make one so the log has a known line.
    const probe = await kubectl('1.33', ['exec', 'web', '-c', 'side', '--', 'sh', '-c', 'wget -q -O /dev/null http://127.0.0.1:8080/logs-probe; true']);
    expect(probe.code).toBe(0);
    const direct = await eventually('the request in the log', async () => {
      const res = await agentGet(logsPath, node!.pki.kubeletClient);
      return res.code === 200 && /response:404/.test(res.body) ? res : undefined;
    }, 20_000);
    expect(direct.code).toBe(200);
    const viaApi = await kubectl('1.33', ['logs', 'web', '-c', 'web', '--tail=50']);
    expect(viaApi).toMatchObject({ code: 0, stderr: '' });
    expect(viaApi.stdout).toMatch(/response:404/);
  });
});

// The `keel` CLI's own stream commands, end to end on the same real node (its unit-level
// protocol cases are in apps/cli/test/exec.int.test.ts against a stand-in server).
describe('keel (the CLI) through the apiserver', () => {
  const keelCli = join(import.meta.dirname, '../../../dist/apps/cli/main.js');
  // keel's CLI takes kubectl's flags, so the same runner serves it.
  const keel = (args: string[], stdin?: string): Promise<KubectlResult> =>
    runKubectl(process.execPath, [keelCli, '--kubeconfig', node!.users.admin.kubeconfig, ...args], { env: { KUBECONFIG: '', NO_COLOR: '1' }, input: stdin });

  it('keel exec: stdout and stderr apart, piped stdin, and the remote exit code as its own', async () => {
    const res = await keel(['exec', 'web', '-c', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(res).toMatchObject({ code: 3, stdout: 'out\n' });
    expect(res.stderr).toContain('err\n');
    expect(await keel(['exec', '-i', 'web', '-c', 'web', '--', 'sh', '-c', 'wc -c'], 'hello keel\n')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\s*11\n$/) });
  });

  it('keel exec -it: raw terminal, and a resize reaches the shell', async () => {
    const { term, exited, waitFor, resizeSeen } = terminal(process.execPath, [keelCli, '--kubeconfig', node!.users.admin.kubeconfig, 'exec', '-it', 'web', '-c', 'web', '--', 'sh'], { NO_COLOR: '1' });
    try {
      await waitFor(/\/www # /);
      term.write('echo $((6*7))\r');
      await waitFor(/^42\r?$/m);
      await resizeSeen();
      term.write('exit 7\r');
      expect(await exited).toBe(7);
    } finally {
      term.kill();
    }
  });

  it('keel port-forward: an HTTP GET through the local port reaches the pod', async () => {
    const child = spawn(process.execPath, [keelCli, '--kubeconfig', node!.users.admin.kubeconfig, 'port-forward', 'pod/web', ':8080'], { env: { ...process.env, KUBECONFIG: '', NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const port = await eventually(`keel port-forward to listen (stdout ${JSON.stringify(out)})`, async () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1], 20_000);
      expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe('hello from keel\n');
      expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe('hello from keel\n');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
