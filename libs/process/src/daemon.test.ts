import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killDaemon, nodeDaemonDefaults, runningDaemon, startDaemon, stopDaemon } from './daemon';

const work = mkdtempSync(join(tmpdir(), 'keel-daemon-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('daemons', () => {
  it('starts, reports, and stops a daemon by its recorded PID', async () => {
    const pidFile = join(work, 'a.pid');
    const marker = join(work, 'a.ready');
    const daemon = await startDaemon({
      argv: ['sh', '-c', `touch ${marker}; while :; do sleep 0.1; done`],
      pidFile,
      logFile: join(work, 'a.log'),
      ready: async () => existsSync(marker),
    });
    expect(runningDaemon(pidFile)?.pid).toBe(daemon.pid);
    await daemon.stop();
    for (let i = 0; i < 100 && existsSync(`/proc/${daemon.pid}`); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(`/proc/${daemon.pid}`)).toBe(false);
    expect(runningDaemon(pidFile)).toBeUndefined();
    expect(await stopDaemon(pidFile)).toBe(false);
  });

  it('starts a Node daemon with two malloc arenas unless the environment says otherwise', async () => {
    expect(nodeDaemonDefaults([process.execPath, 'main.js'])).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(nodeDaemonDefaults(['/usr/bin/containerd'])).toEqual({});
    const pidFile = join(work, 'env.pid');
    const out = join(work, 'env.out');
    const daemon = await startDaemon({
      argv: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.MALLOC_ARENA_MAX ?? 'unset'); setInterval(() => {}, 1000)`],
      pidFile,
      logFile: join(work, 'env.log'),
      ready: async () => existsSync(out),
    });
    await daemon.stop();
    expect(readFileSync(out, 'utf8')).toBe(process.env.MALLOC_ARENA_MAX ?? '2');
  });

  it('never signals a PID whose command line is not the recorded one', async () => {
    const pidFile = join(work, 'b.pid');
    // Our own test process's PID, recorded with a different command line: must be left alone.
    writeFileSync(pidFile, JSON.stringify({ pid: process.pid, argv: ['docker-registry', 'serve', 'x'] }));
    expect(runningDaemon(pidFile)).toBeUndefined();
    expect(await stopDaemon(pidFile)).toBe(false);
    expect(await killDaemon(pidFile)).toBe(false);
  });

  it('reports a daemon that exits before it is ready, with its log', async () => {
    await expect(
      startDaemon({
        argv: ['sh', '-c', 'echo "bad config: port" >&2; exit 3'],
        pidFile: join(work, 'c.pid'),
        logFile: join(work, 'c.log'),
        ready: async () => false,
      }),
    ).rejects.toThrow(/sh exited with 3; last log lines:\nbad config: port/);
  });

  it('kills a daemon at once, as a crash would', async () => {
    const pidFile = join(work, 'd.pid');
    const daemon = await startDaemon({ argv: ['sleep', '30'], pidFile, logFile: join(work, 'd.log'), ready: async () => true });
    expect(await killDaemon(pidFile)).toBe(true);
    expect(runningDaemon(pidFile)).toBeUndefined();
    await daemon.stop();
  });

  it('refuses files outside a keel- folder', async () => {
    await expect(
      startDaemon({ argv: ['true'], pidFile: '/tmp/x.pid', logFile: '/tmp/x.log', ready: async () => true }),
    ).rejects.toThrow(/keel-/);
  });
});
