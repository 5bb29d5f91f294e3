// Proves the dependency rules of DESIGN.md bite: each forbidden import, written as a
// fixture at a path inside the project it would break, is reported by ESLint run
// programmatically with the workspace's own config; the allowed imports are not.
import { createProjectGraphAsync } from '@nx/devkit';
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
let eslint: ESLint;

beforeAll(async () => {
  // The Nx rule reads the cached project graph; make sure one exists, as `nx lint` would.
  process.env['NX_DAEMON'] = 'false';
  await createProjectGraphAsync({ exitOnError: false });
  eslint = new ESLint({ cwd: root });
}, 60_000);

/** Lints `code` as if it were the file at `path`; returns "rule: message" for each error. */
async function errors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, path) });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('dependency boundaries', () => {
  it.each([
    ['libs/raft/src/fixture.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'no-restricted-imports'],
    ['libs/raft/src/fixture.ts', "import { Socket } from 'net';\nexport const s = Socket;\n", 'no-restricted-imports'],
    ['libs/api/src/fixture.ts', "import { setTimeout as t } from 'node:timers';\nexport const x = t;\n", 'no-restricted-imports'],
    ['libs/api/src/fixture.ts', "import { writeFile } from 'fs/promises';\nexport const w = writeFile;\n", 'no-restricted-imports'],
    ['libs/raft/src/fixture.ts', "import * as grpc from '@grpc/grpc-js';\nexport const g = grpc;\n", '@nx/enforce-module-boundaries'],
    ['libs/api/src/fixture.ts', "import { ClassicLevel } from 'classic-level';\nexport const c = ClassicLevel;\n", '@nx/enforce-module-boundaries'],
    ['libs/raft/src/fixture.ts', "import { loadProto } from '@keel/protos';\nexport const l = loadProto;\n", '@nx/enforce-module-boundaries'],
    ['libs/raft/src/fixture.ts', 'export const later = () => setTimeout(() => 0, 10);\n', 'no-restricted-globals'],
    ['libs/raft/src/fixture.ts', 'export const now = () => Date.now();\n', 'no-restricted-properties'],
    ['libs/api/src/fixture.ts', 'export const coin = () => Math.random();\n', 'no-restricted-properties'],
  ])('a pure lib: %s with a forbidden import or global is reported (%#)', async (path, code, rule) => {
    const found = await errors(path, code);
    expect(found.some((e) => e.startsWith(`${rule}:`)), found.join('\n') || 'no errors').toBe(true);
  });

  it('a lib importing an app is reported', async () => {
    const found = await errors(
      'libs/protos/src/fixture.ts',
      "import { upReport } from '../../../apps/cli/src/up';\nexport const u = upReport;\n",
    );
    expect(found.some((e) => e.startsWith('@nx/enforce-module-boundaries:')), found.join('\n')).toBe(true);
  });

  it('a tool importing an app is reported', async () => {
    const found = await errors(
      'tools/images/src/fixture.ts',
      "import { upReport } from '../../../apps/cli/src/up';\nexport const u = upReport;\n",
    );
    expect(found.some((e) => e.startsWith('@nx/enforce-module-boundaries:')), found.join('\n')).toBe(true);
  });

  it("a lib's source importing a tool is reported, while its integration tests may", async () => {
    const code = "import { startEtcdCluster } from '@keel/tools-etcd';\nexport const s = startEtcdCluster;\n";
    const fromSource = await errors('libs/protos/src/fixture.ts', code);
    expect(fromSource.some((e) => e.startsWith('@nx/enforce-module-boundaries:')), fromSource.join('\n')).toBe(true);
    expect(await errors('libs/protos/test/fixture.test.ts', code)).toEqual([]);
  });

  it('allowed imports pass: pure → pure, I/O lib → Node and gRPC, app → lib', async () => {
    expect(await errors('libs/raft/src/fixture.ts', "import { ApiError } from '@keel/api';\nexport const e = ApiError;\n")).toEqual([]);
    expect(
      await errors(
        'libs/protos/src/fixture.ts',
        "import { readFileSync } from 'node:fs';\nimport * as grpc from '@grpc/grpc-js';\nexport const x = [readFileSync, grpc];\n",
      ),
    ).toEqual([]);
    expect(await errors('apps/cli/src/fixture.ts', "import { loadProto } from '@keel/protos';\nexport const l = loadProto;\n")).toEqual([]);
  });
});
