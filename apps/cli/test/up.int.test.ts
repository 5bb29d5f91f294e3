// `keel up` for real: the built keel-store and keel-apiserver start from a keel- folder,
// the sample app is applied (and re-applied unchanged), kubectl sees it, and `keel down`
// stops every process it started.
import { ensureKubectl } from '@keel/tools-kubectl';
import { freeLoopbackPorts } from '@keel/process';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const work = mkdtempSync(join(tmpdir(), 'keel-up-test-'));
const dir = join(work, 'keel-local');
let flags: string[] = [];

const keel = async (...args: string[]) => {
  try {
    const { stdout } = await run('node', [join(root, 'dist/apps/cli/main.js'), ...args, ...flags], { timeout: 120_000 });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
};

beforeAll(async () => {
  for (const app of ['apps/store', 'apps/apiserver', 'apps/cli']) execFileSync('node', ['tools/scripts/bundle.mjs', app], { cwd: root, stdio: 'ignore' });
  const [store, api] = await freeLoopbackPorts(2);
  // The store's peer port and the apiserver's gRPC port are each the next port up.
  flags = ['--dir', dir, '--store-port', String(store), '--apiserver-port', String(api)];
}, 120_000);

afterAll(async () => {
  await keel('down');
  rmSync(work, { recursive: true, force: true });
});

describe('keel up and down', () => {
  it('starts the store and the apiserver, and applies the sample app', async () => {
    const up = await keel('up', '--registry', '127.0.0.1:1', '--no-node');
    expect(up.out).toMatch(/keel-store\s+started/);
    expect(up.out).toMatch(/keel-apiserver\s+started/);
    expect(up.out).toMatch(/deployment\/web -n demo created/);
    expect(up.out).toMatch(/its pods wait for/);
    // The registry named above does not exist, and the report says so.
    expect(up.out).toMatch(/registry\s+missing/);
    const kubectl = ensureKubectl('1.33');
    const { stdout } = await run(kubectl, ['get', 'deployment', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}'], {
      env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') },
    });
    expect(stdout).toBe('2');
  }, 120_000);

  it('is repeatable: running parts stay, the sample app is unchanged', async () => {
    const again = await keel('up', '--registry', '127.0.0.1:1', '--no-node');
    expect(again.out).toMatch(/keel-store\s+running/);
    expect(again.out).toMatch(/deployment\/web -n demo unchanged/);
  }, 120_000);

  it('stops everything by the recorded PIDs', async () => {
    const pids = ['keel-store', 'keel-apiserver'].map((p) => JSON.parse(readFileSync(join(dir, 'run', `${p}.pid`), 'utf8')).pid as number);
    const down = await keel('down');
    expect(down.out).toMatch(/keel-apiserver\s+stopped/);
    expect(down.out).toMatch(/keel-store\s+stopped/);
    for (const pid of pids) {
      // Gone, not merely dying.
      for (let i = 0; i < 100 && existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== ''; i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '').toBe(false);
    }
    const status = await keel('status');
    expect(status.out).toMatch(/keel-store\s+stopped/);
  }, 60_000);
});
