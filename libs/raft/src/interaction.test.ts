// Runs the data-driven interaction tests in testdata/*.txt: each file is a script of
// commands against an in-memory cluster (test/interaction-env.ts) with the expected
// output under each command. REWRITE=1 regenerates the expected output.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFile } from '../test/datadriven';
import { InteractionEnv } from '../test/interaction-env';

const dir = join(import.meta.dirname, '..', 'testdata');

describe('interaction', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const env = new InteractionEnv();
      const failures = runFile(join(dir, file), (d) => env.run(d));
      for (const f of failures) {
        expect(f.actual, `${file}:${f.directive.line}: ${f.directive.text}`).toBe(f.directive.expected);
      }
    });
  }
});
