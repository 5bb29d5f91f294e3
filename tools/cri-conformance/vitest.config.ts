import { projectConfig } from '../../vitest.shared.ts';

// The integration test starts a registry and containerd and runs the whole suite.
export default projectConfig(import.meta.dirname, { name: 'tools-cri-conformance', testTimeout: 240_000 });
