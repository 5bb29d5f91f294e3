// One control plane for a CLI integration test file: the built `keel` runs `keel up --no-node`
// (keel-store, keel-apiserver over TLS with RBAC, controller-manager, scheduler) in a fresh
// keel- folder, and the tests drive `keel` against it as a user would — through pipes, or in
// a real pseudo-terminal (node-pty) where the command is interactive.
import { eventually, freeLoopbackPorts } from '@keel/process';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as pty from 'node-pty';

export const root = resolve(import.meta.dirname, '../../..');
/** The built CLI, as `npm run build` (and up()) leaves it. */
export const cli = join(root, 'dist/apps/cli/main.js');

export interface Result {
  code: number;
  out: string;
  err: string;
}

/** Polls `probe` every 250 ms until it returns a value (throws on timeout, naming `what`). */
export const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
  eventually(what, probe, { timeoutMs, intervalMs: 250 });

export class CliCluster {
  /** The test's scratch folder (removed by down()); the cluster lives in its keel-local. */
  readonly work: string;
  readonly dir: string;
  readonly kubeconfig: string;
  private flags: string[] = [];

  /** Makes the folder `keel-<name>-…` under the system's temp folder; up() starts the cluster. */
  constructor(name: string) {
    this.work = mkdtempSync(join(tmpdir(), `keel-${name}-`));
    this.dir = join(this.work, 'keel-local');
    this.kubeconfig = join(this.dir, 'kubeconfig');
  }

  /** Bundles the apps it runs (so the test sees the current source), then `keel up --no-node` on free ports. */
  async up(): Promise<Result> {
    for (const app of ['apps/store', 'apps/apiserver', 'apps/controller-manager', 'apps/scheduler', 'apps/cli']) {
      execFileSync('node', ['tools/scripts/bundle.mjs', app], { cwd: root, stdio: 'ignore' });
    }
    const [store, api] = await freeLoopbackPorts(2);
    this.flags = ['--dir', this.dir, '--store-port', String(store), '--apiserver-port', String(api)];
    return this.keel(['up', '--no-node', '--no-sample', '--registry', '127.0.0.1:1', ...this.flags]);
  }

  /** `keel down` for this cluster, then the scratch folder goes. */
  async down(): Promise<void> {
    if (this.flags.length > 0) await this.keel(['down', ...this.flags]);
    rmSync(this.work, { recursive: true, force: true });
  }

  /** This cluster's kubeconfig, and the scratch folder as TMPDIR: the copies `keel edit` keeps of a failed edit go with it. */
  private get env(): Record<string, string> {
    return { KUBECONFIG: this.kubeconfig, TMPDIR: this.work };
  }

  /** Runs `keel args` with this cluster's kubeconfig and no colour; stdin from `input` if given. */
  readonly keel = (args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Result> =>
    new Promise((done) => {
      const child = execFile(
        process.execPath,
        [cli, ...args],
        { env: { ...process.env, ...this.env, NO_COLOR: '1', ...opts.env }, timeout: 60_000 },
        (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
      );
      if (opts.input !== undefined) child.stdin!.end(opts.input);
    });

  /** Runs `keel args` in a pseudo-terminal (what it prints there, and its exit code). */
  readonly inTerminal = (args: string[], env: Record<string, string>, size = { cols: 100, rows: 30 }): Promise<{ code: number; output: string }> =>
    new Promise((done) => {
      const term = pty.spawn(process.execPath, [cli, ...args], {
        ...size,
        env: { ...process.env, ...this.env, ...env } as Record<string, string>,
      });
      let output = '';
      term.onData((d) => (output += d));
      term.onExit(({ exitCode }) => done({ code: exitCode, output }));
    });
}
