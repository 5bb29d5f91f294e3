import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig(import.meta.dirname, { name: 'tools-kubectl', testTimeout: 300_000 });
