// kubectl as a child process for tests, and the kubeconfig it reads. Asynchronous on purpose:
// the tests run the apiserver (or the agent) in their own process, which must keep answering
// while kubectl waits on it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunKubectlOptions {
  /** Passed as `--kubeconfig`, with KUBECONFIG emptied so nothing else is read. */
  kubeconfig?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Written to kubectl's stdin, which is then closed (closed at once without it). */
  input?: string;
  /** Killed (SIGKILL) after this long; 60 s unless told. */
  timeoutMs?: number;
  /** Trim stdout and stderr. */
  trim?: boolean;
}

/** Runs `binary` (a kubectl) with args to its end: its exit code (null if killed), stdout and stderr. */
export function runKubectl(binary: string, args: string[], opts: RunKubectlOptions = {}): Promise<KubectlResult> {
  const argv = opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig, ...args] : args;
  const env = { ...process.env, ...(opts.kubeconfig ? { KUBECONFIG: '' } : {}), ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn(binary, argv, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(opts.trim ? { code, stdout: stdout.trim(), stderr: stderr.trim() } : { code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface KubeconfigOptions {
  server: string;
  /** The CA that signed the server's certificate. */
  caFile: string;
  /** The user's name in the kubeconfig; `admin` unless told. */
  user?: string;
  /** A client certificate and key; without one the user is empty (for `--token`). */
  client?: { certFile: string; keyFile: string };
}

/** Writes a kubeconfig (one cluster `keel`, one user, context `keel`) naming the files, not embedding them. */
export function writeKubeconfig(file: string, opts: KubeconfigOptions): string {
  const user = opts.user ?? 'admin';
  const client = opts.client ? `\n    client-certificate: ${opts.client.certFile}\n    client-key: ${opts.client.keyFile}` : ' {}';
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: keel
  cluster:
    server: ${opts.server}
    certificate-authority: ${opts.caFile}
users:
- name: ${user}
  user:${client}
contexts:
- name: keel
  context:
    cluster: keel
    user: ${user}
current-context: keel
`,
  );
  return file;
}
