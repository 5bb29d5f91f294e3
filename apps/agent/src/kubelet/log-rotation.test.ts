import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { excessRotated, rotateLogs } from './log-rotation';

const root = mkdtempSync(join(tmpdir(), 'keel-rotation-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('log rotation', () => {
  it('keeps maxFiles − 1 rotated files, dropping the oldest', () => {
    expect(excessRotated(['0.log', '0.log.20260101T000002Z', '0.log.20260101T000001Z', '0.log.20260101T000003Z', '1.log.x'], '0.log', 3)).toEqual(['0.log.20260101T000001Z']);
  });

  it('renames a large file, reopens it through CRI, and undoes the rename when reopen fails', async () => {
    const dir = join(root, 'logs', 'ns_web_u1', 'main');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0.log'), 'x'.repeat(200));
    const reopened: string[] = [];
    let failReopen = false;
    const cri = {
      listContainers: async () => [
        { id: 'c1', metadata: { name: 'main', attempt: 0 }, labels: { 'io.kubernetes.pod.namespace': 'ns', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.container.name': 'main' } },
      ],
      reopenContainerLog: async (id: string) => {
        if (failReopen) throw new Error('no');
        reopened.push(id);
        writeFileSync(join(dir, '0.log'), '');
      },
    } as unknown as Parameters<typeof rotateLogs>[0];
    const rotated = await rotateLogs(cri, root, { maxBytes: 100, maxFiles: 2 }, Date.parse('2026-01-01T00:00:00Z'));
    expect(rotated).toEqual([join(dir, '0.log.20260101T000000Z')]);
    expect(reopened).toEqual(['c1']);
    expect(readFileSync(join(dir, '0.log'), 'utf8')).toBe('');

    writeFileSync(join(dir, '0.log'), 'y'.repeat(200));
    await rotateLogs(cri, root, { maxBytes: 100, maxFiles: 2 }, Date.parse('2026-01-01T00:01:00Z'));
    expect(readdirSync(dir).sort()).toEqual(['0.log', '0.log.20260101T000100Z']);

    failReopen = true;
    writeFileSync(join(dir, '0.log'), 'z'.repeat(200));
    expect(await rotateLogs(cri, root, { maxBytes: 100, maxFiles: 2 }, Date.parse('2026-01-01T00:02:00Z'))).toEqual([]);
    expect(readFileSync(join(dir, '0.log'), 'utf8')).toBe('z'.repeat(200));
    expect(existsSync(join(dir, '0.log.20260101T000200Z'))).toBe(false);
  });
});
