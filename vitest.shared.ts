// One place that turns tsconfig.base.json's paths into Vitest aliases, so every
// project's tests resolve `@keel/*` to source exactly as tsc and the bundler do.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

function aliases(): { find: RegExp; replacement: string }[] {
  const base = JSON.parse(readFileSync(resolve(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return Object.entries(base.compilerOptions.paths).map(([name, targets]) => {
    const target = resolve(root, targets[0]!);
    // `@keel/x/*` maps the rest of the path; `@keel/x` maps only itself.
    return name.endsWith('/*')
      ? { find: new RegExp(`^${escape(name.slice(0, -2))}/(.*)$`), replacement: target.replace(/\*$/, '$1') }
      : { find: new RegExp(`^${escape(name)}$`), replacement: target };
  });
}

/** The Vitest config of one project, given its folder and options for its kind of tests. */
export function projectConfig(
  projectDir: string,
  opts: { name: string; testTimeout?: number; include?: string[] },
): UserConfig {
  return defineConfig({
    root: projectDir,
    resolve: { alias: aliases() },
    test: {
      name: opts.name,
      watch: false,
      include: opts.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      environment: 'node',
      testTimeout: opts.testTimeout ?? 10_000,
      hookTimeout: opts.testTimeout ?? 10_000,
    },
  });
}
