// The whole suite in one Vitest run: every project's own vitest.config.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    watch: false,
    projects: ['libs/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'tools/*/vitest.config.ts'],
  },
});
