import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig(import.meta.dirname, { name: 'tools-etcd', testTimeout: 60_000 });
