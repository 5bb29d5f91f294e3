import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig(import.meta.dirname, { name: 'apiserver', testTimeout: 60_000 });
