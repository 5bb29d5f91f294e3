// Cases for the runtime itself and its image service: Version, Status conditions, and
// pull / list / status / remove against the local registry, plus a pull that must fail.
import { CriError, nanos } from '@keel/cri';
import { check } from '../errors';
import type { ConformanceCase } from '../suite';

export const runtimeCases: ConformanceCase[] = [
  {
    name: 'runtime/version',
    description: 'Version names the runtime and speaks CRI v1',
    async run(f) {
      const v = await f.client.version();
      check(v.runtime_name !== '', 'runtime_name is empty');
      check(v.runtime_version !== '', 'runtime_version is empty');
      check(v.runtime_api_version === 'v1', `runtime_api_version is "${v.runtime_api_version}", want v1`);
    },
  },
  {
    name: 'runtime/status',
    description: 'Status reports RuntimeReady and NetworkReady true',
    async run(f) {
      const c = await f.client.conditions();
      const bad = ['RuntimeReady', 'NetworkReady']
        .filter((t) => !c.all[t]?.status)
        .map((t) => `${t} is false${c.all[t] ? ` (${c.all[t].reason}: ${c.all[t].message})` : ' (absent)'}`);
      check(bad.length === 0, bad.join('; '));
    },
  },
  {
    name: 'image/pull',
    description: 'PullImage fetches an image from the local registry and answers its ID',
    async run(f) {
      const ref = await f.client.pullImage(f.images.busybox);
      check(/^sha256:[0-9a-f]{64}$/.test(ref), `image_ref "${ref}" is not an image ID`);
    },
  },
  {
    name: 'image/list',
    description: 'ListImages includes a pulled image under its tag',
    async run(f) {
      await f.ensureImage(f.images.busybox);
      const images = await f.client.listImages();
      const found = images.find((i) => i.repo_tags.includes(f.images.busybox));
      check(found, `${f.images.busybox} not among ${images.length} listed images`);
      check(nanos(found.size) > 0n, `listed size is ${found.size}`);
    },
  },
  {
    name: 'image/status',
    description: 'ImageStatus describes a present image and answers none for an absent one',
    async run(f) {
      await f.ensureImage(f.images.busybox);
      const image = await f.client.imageStatus(f.images.busybox);
      check(image, `no status for ${f.images.busybox}`);
      check(image.id.startsWith('sha256:'), `id "${image.id}"`);
      check(image.repo_digests.some((d) => d.includes('@sha256:')), `repo_digests ${JSON.stringify(image.repo_digests)}`);
      check(nanos(image.size) > 0n, `size ${image.size}`);
      const absent = await f.client.imageStatus(f.images.missing);
      check(absent === null, `status of a missing image is ${JSON.stringify(absent)}, want none`);
    },
  },
  {
    name: 'image/remove',
    description: 'RemoveImage removes an image, and removing it again is not an error',
    async run(f) {
      await f.ensureImage(f.images.jobOk);
      await f.client.removeImage(f.images.jobOk);
      check((await f.client.imageStatus(f.images.jobOk)) === null, 'image still present after RemoveImage');
      await f.client.removeImage(f.images.jobOk); // idempotent by contract
    },
  },
  {
    name: 'image/pull-missing-fails',
    description: 'Pulling an image the registry lacks fails promptly with a clear error',
    async run(f) {
      const started = Date.now();
      try {
        await f.client.pullImage(f.images.missing, undefined, undefined, { timeoutMs: 20_000 });
      } catch (err) {
        check(err instanceof CriError, `unexpected error type: ${String(err)}`);
        check(err.code !== 'Timeout', `the pull hung until the deadline: ${err.message}`);
        check(/not found|manifest unknown|404/i.test(err.message), `error does not say the image is missing: ${err.message}`);
        check(Date.now() - started < 15_000, `took ${Date.now() - started} ms to fail`);
        return;
      }
      check(false, `pulling ${f.images.missing} succeeded`);
    },
  },
];
