// keel-store's robustness in CI: a short run of tools/robustness (as a child process; the
// store's tests import no tool by path): 3 members behind fault-injecting peer proxies, 6
// clients doing linearizable gets, puts, compare-and-swap transactions and deletes on 4
// keys, 3 watchers cancelled and resumed now and then, while a schedule drawn from the
// seed kills members with SIGKILL (the leader half the time), pauses them with SIGSTOP,
// isolates them, slows their links and moves leadership. The history must be linearizable, the watch streams
// ordered, unique and gap-free, and no acknowledged write lost. A failing run is saved to
// tmp/robustness-failure-<seed>.json; replay it with
// `npx tsx tools/robustness/src/main.ts --replay FILE`. Longer runs: the same command with --seeds.
import { checkRun, parseRun, type KvOperation } from '@keel/testing';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../../..');
const seed = Number(process.env['KEEL_ROBUSTNESS_SEED'] ?? 7);
const runFile = resolve(repoRoot, 'tmp', `keel-robustness-run-${seed}-${process.pid}.json`);
let childPid: number | undefined;

/** Runs the command; resolves with its exit code and output. */
function runCommand(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(resolve(repoRoot, 'node_modules/.bin/tsx'), ['tools/robustness/src/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    childPid = child.pid;
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    // The command stops its cluster on SIGTERM (SIGCONT first).
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      childPid = undefined;
      resolvePromise({ code, out });
    });
  });
}

afterAll(() => {
  if (childPid !== undefined) process.kill(childPid, 'SIGTERM');
  rmSync(runFile, { force: true });
});

describe('keel-store robustness', () => {
  it(`stays linearizable with gap-free watches under kill -9, SIGSTOP, partitions and delays (seed ${seed})`, async () => {
    mkdirSync(resolve(repoRoot, 'tmp'), { recursive: true });
    const { code, out } = await runCommand(
      ['--seeds', '1', '--first-seed', String(seed), '--seconds', '25', '--clients', '6', '--verbose', '--save-run', runFile],
      100_000,
    );
    console.log(out);
    expect(code, out).toBe(0);
    expect(out).toMatch(new RegExp(`seed ${seed}: .*linearizable: ok, anomalies: 0`));

    // Replayed by the checker alone, the saved history passes too, with real faults in it.
    const run = parseRun(readFileSync(runFile, 'utf8'));
    const v = checkRun(run);
    expect(v.anomalies).toEqual([]);
    expect(v.linearizable).toBe('ok');
    expect(run.faults!.filter((f) => !f.startsWith('watch')).length).toBeGreaterThanOrEqual(3);
    expect(v.operations).toBeGreaterThan(200);

    // The checker is not vacuous on this very history: a read that returns what an earlier
    // read saw, after a newer acknowledged write, must be caught.
    const ops = run.operations;
    const isGet = (o: KvOperation) => o.input.type === 'get' && o.output?.type === 'get' && o.output.value !== null;
    let pair: [KvOperation, KvOperation] | undefined;
    for (const older of ops.filter(isGet)) {
      const om = (older.output as { modRevision: number }).modRevision;
      const newer = ops.find((o) => isGet(o) && o.input.key === older.input.key && o.call > older.ret && (o.output as { modRevision: number }).modRevision > om);
      if (newer) {
        pair = [older, newer];
        break;
      }
    }
    expect(pair).toBeDefined();
    const [older, newer] = pair!;
    const staleOutput = { ...(older.output as object), revision: (newer.output as { revision: number }).revision } as KvOperation['output'];
    const corrupted = ops.map((o) => (o === newer ? { ...o, output: staleOutput } : o));
    expect(checkRun({ ...run, operations: corrupted }).linearizable).toBe('illegal');
  }, 120_000);
});
