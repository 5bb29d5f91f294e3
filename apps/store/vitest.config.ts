import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig(import.meta.dirname, { name: 'store', testTimeout: 60_000 });
