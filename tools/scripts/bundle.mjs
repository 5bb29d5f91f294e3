#!/usr/bin/env node
// Builds one project into dist/<projectRoot>/ with esbuild: each entry named in the
// project's project.json `keel.entries` becomes one ESM file. Workspace libs
// (`@keel/*`, resolved through tsconfig paths) are bundled in; npm packages stay
// external, so native modules (classic-level, node-pty) load from node_modules.
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const projectRoot = process.argv[2];
if (!projectRoot) {
  console.error('usage: bundle.mjs <projectRoot>');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '../..');
const project = JSON.parse(readFileSync(join(root, projectRoot, 'project.json'), 'utf8'));
const entries = project.keel?.entries ?? { index: 'src/index.ts' };
const outdir = join(root, 'dist', projectRoot);
rmSync(outdir, { recursive: true, force: true });

const executable = project.projectType === 'application';
await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(
    Object.entries(entries).map(([out, src]) => [out, join(projectRoot, src)]),
  ),
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  packages: 'external',
  tsconfig: join(root, 'tsconfig.base.json'),
  banner: executable ? { js: '#!/usr/bin/env node' } : undefined,
  logLevel: 'warning',
});
if (executable) {
  for (const out of Object.keys(entries)) chmodSync(join(outdir, `${out}.js`), 0o755);
}
console.log(`built ${projectRoot} -> ${outdir.slice(root.length + 1)}`);
