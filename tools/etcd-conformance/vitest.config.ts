import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig(import.meta.dirname, { name: 'tools-etcd-conformance', testTimeout: 60_000 });
