// Integration: the images build the same twice, push to a real docker-registry on
// loopback, read back with the registry API and skopeo, and nothing is left running.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '@keel/process';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImages, type BuiltImage } from '@keel/tools-images';
import { pushImage, registryDigest, startRegistry, type Registry } from '../src/registry';

describe('images and the local registry', () => {
  const work = mkdtempSync(join(tmpdir(), 'keel-images-test-'));
  let registry: Registry | undefined;
  let first: BuiltImage[] = [];

  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('builds byte-identical images twice', async () => {
    first = await buildImages(join(work, 'a'));
    const second = await buildImages(join(work, 'b'));
    expect(first.map((i) => i.ref)).toEqual([
      'keel/pause:3.9',
      expect.stringMatching(/^keel\/busybox:\d+\.\d+$/),
      'keel/web:1.0',
      'keel/job-ok:1.0',
      'keel/job-fail:1.0',
      'keel/crasher:1.0',
    ]);
    expect(second.map((i) => i.digest)).toEqual(first.map((i) => i.digest));
    for (const image of first) expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('pushes every image and reads the same digests back', async () => {
    registry = await startRegistry({ dir: join(work, 'keel-registry'), addr: `127.0.0.1:${await freeLoopbackPort()}` });
    for (const image of first) await pushImage(image.layoutDir, image.ref, registry.addr);
    for (const image of first) expect(await registryDigest(image.ref, registry.addr)).toBe(image.digest);

    const web = JSON.parse(
      execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.addr}/keel/web:1.0`], {
        encoding: 'utf8',
      }),
    ) as { Digest: string; Layers: string[]; Env: string[] };
    expect(web.Digest).toBe(first.find((i) => i.ref === 'keel/web:1.0')!.digest);
    expect(web.Layers).toHaveLength(2); // the shared busybox layer and the web content
    expect(await registryDigest('keel/nope:1.0', registry.addr)).toBeUndefined();
  });

  it('stops the registry by its recorded PID and leaves nothing running', async () => {
    const { pid, dir } = registry!;
    await registry!.stop();
    registry = undefined;
    // Gone, not merely dying: give Node a moment to reap its (detached) child.
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(join(dir, 'registry.pid'))).toBe(false);
  });
});
