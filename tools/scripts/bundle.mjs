#!/usr/bin/env node
// Builds one project into dist/<projectRoot>/ with esbuild: each entry named in the
// project's project.json `keel.entries` becomes one ESM file. Workspace libs
// (`@keel/*`, resolved through tsconfig paths) are bundled in; npm packages stay
// external, so native modules (classic-level, node-pty) load from node_modules.
//
// The new files are built beside the old ones and renamed over them one by one (a rename
// replaces a file atomically), because integration tests rebundle while other test files
// are running programs from dist/: a folder removed and rewritten in place would, for a
// moment, have no main.js for a `keel` command starting just then.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const projectRoot = process.argv[2];
if (!projectRoot) {
  console.error('usage: bundle.mjs <projectRoot>');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '../..');
const project = JSON.parse(readFileSync(join(root, projectRoot, 'project.json'), 'utf8'));
const entries = project.keel?.entries ?? { index: 'src/index.ts' };
const outdir = join(root, 'dist', projectRoot);
mkdirSync(dirname(outdir), { recursive: true });
const staging = mkdtempSync(`${outdir}.keel-staging-`);

const executable = project.projectType === 'application';
try {
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(
      Object.entries(entries).map(([out, src]) => [out, join(projectRoot, src)]),
    ),
    outdir: staging,
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
    for (const out of Object.keys(entries)) chmodSync(join(staging, `${out}.js`), 0o755);
  }
  const filesUnder = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath ?? d.path, d.name)));
  const built = new Set(filesUnder(staging));
  for (const file of built) {
    mkdirSync(dirname(join(outdir, file)), { recursive: true });
    renameSync(join(staging, file), join(outdir, file));
  }
  // What an earlier build made and this one did not (a renamed entry) goes.
  for (const file of filesUnder(outdir)) if (!built.has(file)) rmSync(join(outdir, file), { force: true });
} finally {
  rmSync(staging, { recursive: true, force: true });
}
console.log(`built ${projectRoot} -> ${outdir.slice(root.length + 1)}`);
