import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig(import.meta.dirname, { name: 'tools-workspace', testTimeout: 60_000 });
