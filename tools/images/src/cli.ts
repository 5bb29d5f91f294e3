// `tsx tools/images/src/cli.ts build [--out DIR]`: builds every image as an OCI layout
// and prints each one's reference and digest.
import { Command } from 'commander';
import { resolve } from 'node:path';
import { buildImages } from './build';
import { DEFAULT_IMAGES_DIR } from './paths';

const program = new Command('keel-images').description('build Keel images as OCI layouts, offline');
program
  .command('build')
  .description('build the pause, busybox and example images')
  .option('--out <dir>', 'folder for the OCI layouts', DEFAULT_IMAGES_DIR)
  .action(async (opts: { out: string }) => {
    const images = await buildImages(resolve(opts.out));
    for (const image of images) console.log(`${image.ref.padEnd(20)} ${image.digest}  ${image.layoutDir}`);
  });
program.parseAsync().catch((err: unknown) => {
  console.error(`keel-images: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
