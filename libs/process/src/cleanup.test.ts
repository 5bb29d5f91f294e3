import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { onCleanup, pendingCleanups, runCleanups } from './cleanup';

const work = mkdtempSync(join(tmpdir(), 'keel-cleanup-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A tiny tool: starts one daemon, registers its cleanups, then waits (or returns with "finish").
const TOOL = `
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// Stopped means gone, or a zombie this process has not reaped yet.
const gone = (pid: number) => { try { return / Z /.test(readFileSync('/proc/' + pid + '/stat', 'utf8')); } catch { return true; } };
import { onCleanup, runTool, startDaemon, stopDaemonsUnder } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};
const [dir, mode] = process.argv.slice(2);
runTool('keel-cleanup-tool', async () => {
  let pid = 0;
  onCleanup('marker', () => writeFileSync(join(dir, 'cleaned'), JSON.stringify({ pid, daemonGone: gone(pid) })));
  onCleanup('daemons', () => stopDaemonsUnder(dir));
  const ready = join(dir, 'ready');
  const d = await startDaemon({
    argv: ['sh', '-c', 'touch ' + ready + '; while :; do sleep 0.1; done'],
    pidFile: join(dir, 'd.pid'),
    logFile: join(dir, 'd.log'),
    ready: async () => existsSync(ready),
  });
  pid = d.pid;
  process.stdout.write('started ' + pid + '\\n');
  if (mode === 'finish') return;
  setInterval(() => undefined, 1000);
  await new Promise(() => undefined);
});
`;

interface Outcome {
  code: number | null;
  pid: number;
  stderr: string;
  cleaned?: { pid: number; daemonGone: boolean };
}

async function runTool(name: string, signal?: NodeJS.Signals): Promise<Outcome> {
  const dir = join(work, `keel-${name}`);
  const script = join(work, `${name}.ts`);
  writeFileSync(script, TOOL);
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir, signal ? 'wait' : 'finish'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
    if (signal && stdout.includes('started ')) child.kill(signal);
  });
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const pid = Number(/started (\d+)/.exec(stdout)?.[1] ?? 0);
  const marker = join(dir, 'cleaned');
  return { code, pid, stderr, ...(existsSync(marker) ? { cleaned: JSON.parse(readFileSync(marker, 'utf8')) as Outcome['cleaned'] } : {}) };
}

/** The tool has exited, so its stopped daemon is at most a zombie that init reaps shortly. */
async function goneSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 20));
  return !existsSync(`/proc/${pid}`);
}

describe('cleanups on a signal or at the end', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s stops the daemon the tool started, runs the other cleanups once, and exits %d', async (signal, exitCode) => {
    const out = await runTool(signal.toLowerCase(), signal);
    expect(out.pid).toBeGreaterThan(0);
    expect(out.code, out.stderr).toBe(exitCode);
    expect(out.stderr).toContain(`${signal}: stopping what this run started (daemons, marker)`);
    expect(await goneSoon(out.pid)).toBe(true);
    // Newest first: the daemon was stopped before the marker was written.
    expect(out.cleaned).toEqual({ pid: out.pid, daemonGone: true });
  });

  it('runs them when main returns, and exits 0', async () => {
    const out = await runTool('finish');
    expect(out.code, out.stderr).toBe(0);
    expect(await goneSoon(out.pid)).toBe(true);
    expect(out.cleaned).toEqual({ pid: out.pid, daemonGone: true });
  });

  it('runs each cleanup once, newest first, and reports failures', async () => {
    // onCleanup installs SIGINT/SIGTERM handlers in this (the test runner's) process: take
    // them away again, so stopping the runner's worker does not run them.
    const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    onTestFinished(() => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.off(signal, l);
      }
    });
    const ran: string[] = [];
    const runA = onCleanup('keel-a', () => void ran.push('a'));
    onCleanup('keel-b', () => {
      ran.push('b');
      throw new Error('boom');
    });
    onCleanup('keel-c', async () => void ran.push('c'));
    await runA();
    await runA();
    expect(pendingCleanups()).toEqual(['keel-b', 'keel-c']);
    expect(await runCleanups()).toEqual(['keel-b: boom']);
    expect(await runCleanups()).toEqual([]);
    expect(ran).toEqual(['a', 'c', 'b']);
  });
});
