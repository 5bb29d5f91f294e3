// `tsx tools/registry/src/cli.ts start|stop|status|push`: the local registry for
// development and `keel up`, on 127.0.0.1:5000 by default.
import { Command } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_IMAGES_DIR, DEFAULT_REGISTRY_DIR } from '@keel/tools-images';
import { DEFAULT_REGISTRY_ADDR, pushImage, runningRegistry, startRegistry, stopRegistry } from './registry';

const program = new Command('keel-registry').description("the local image registry (Debian's docker-registry)");
const dirOption = ['--dir <dir>', 'the registry folder (named keel-…)', DEFAULT_REGISTRY_DIR] as const;

program
  .command('start')
  .option(...dirOption)
  .option('--addr <host:port>', 'loopback address to listen on', DEFAULT_REGISTRY_ADDR)
  .action(async (opts: { dir: string; addr: string }) => {
    const registry = await startRegistry({ dir: resolve(opts.dir), addr: opts.addr });
    console.log(`registry running on ${registry.addr} (pid ${registry.pid}, data in ${registry.dir})`);
  });

program
  .command('stop')
  .option(...dirOption)
  .action(async (opts: { dir: string }) => {
    console.log((await stopRegistry(resolve(opts.dir))) ? 'registry stopped' : 'registry was not running');
  });

program
  .command('status')
  .option(...dirOption)
  .action((opts: { dir: string }) => {
    const running = runningRegistry(resolve(opts.dir));
    console.log(running ? `running on ${running.addr} (pid ${running.pid})` : 'not running');
    if (!running) process.exitCode = 3;
  });

program
  .command('push')
  .description('push every OCI layout in the images folder')
  .option('--images <dir>', 'folder of OCI layouts (from images build)', DEFAULT_IMAGES_DIR)
  .option('--addr <host:port>', 'registry address', DEFAULT_REGISTRY_ADDR)
  .action(async (opts: { images: string; addr: string }) => {
    const root = resolve(opts.images);
    const layouts = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory());
    if (layouts.length === 0) throw new Error(`no image layouts in ${root}: run images build first`);
    for (const entry of layouts) {
      const layoutDir = join(root, entry.name);
      const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as {
        manifests: { annotations?: Record<string, string> }[];
      };
      const tag = index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'];
      const ref = `${entry.name.replace('_', '/')}:${tag}`;
      await pushImage(layoutDir, ref, opts.addr);
      console.log(`pushed ${opts.addr}/${ref}`);
    }
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`keel-registry: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
