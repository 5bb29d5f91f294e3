import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container } from '@keel/api';
import { afterAll, describe, expect, it } from 'vitest';
import { logTail, terminationMessage, terminationMessageFile, terminationMessageMount } from './termination-message';

const root = mkdtempSync(join(tmpdir(), 'keel-termination-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const podDir = join(root, 'pod');
const logFile = join(root, 'logs', 'main', '0.log');
mkdirSync(join(root, 'logs', 'main'), { recursive: true });
// A CRI log: a stdout line, then a line in two pieces, then stderr.
writeFileSync(logFile, ['2026-01-01T00:00:00.1Z stdout F starting', '2026-01-01T00:00:00.2Z stdout P config ', '2026-01-01T00:00:00.2Z stdout F missing', '2026-01-01T00:00:00.3Z stderr F fatal: giving up', ''].join('\n'));

const c = (policy: Container['terminationMessagePolicy']): Container => ({ name: 'main', image: 'x', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: policy });

describe('termination messages', () => {
  it("mounts a fresh, world-writable file per attempt at the container's path", () => {
    const mount = terminationMessageMount(podDir, c('File'), 2)!;
    expect(mount).toEqual({ container_path: '/dev/termination-log', host_path: terminationMessageFile(podDir, 'main', 2), readonly: false });
    expect(statSync(mount.host_path!).size).toBe(0);
    expect(statSync(mount.host_path!).mode & 0o777).toBe(0o666);
    expect(terminationMessageMount(podDir, { name: 'n', image: 'x' }, 0)).toBeUndefined();
  });

  it('takes the file (at most 4 KiB); else, under FallbackToLogsOnError and a failure, the log tail; else the runtime message', async () => {
    terminationMessageMount(podDir, c('File'), 0);
    const where = { podDir, logFile };
    const failed = { attempt: 0, exitCode: 1, runtimeMessage: 'from runtime' };
    expect(await terminationMessage(c('File'), failed, where)).toBe('from runtime');
    expect(await terminationMessage(c('FallbackToLogsOnError'), failed, where)).toBe('starting\nconfig missing\nfatal: giving up\n');
    // Success never falls back to the logs.
    expect(await terminationMessage(c('FallbackToLogsOnError'), { ...failed, exitCode: 0, runtimeMessage: '' }, where)).toBe('');
    writeFileSync(terminationMessageFile(podDir, 'main', 0), 'x'.repeat(5000));
    expect(await terminationMessage(c('FallbackToLogsOnError'), failed, where)).toBe('x'.repeat(4096));
  });

  it('cuts a log tail to 80 lines and 2 KiB, keeping the end', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    expect(logTail(lines).split('\n')[0]).toBe('line 20');
    const long = logTail(['a'.repeat(3000), 'the end']);
    expect(Buffer.byteLength(long)).toBe(2048);
    expect(long.endsWith('the end\n')).toBe(true);
  });
});
