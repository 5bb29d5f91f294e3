import { projectConfig } from '../../vitest.shared.ts';

// The real-process tests start and kill members and wait for elections: give them room,
// while each test keeps its own, tighter deadline.
export default projectConfig(import.meta.dirname, { name: 'raft-node', testTimeout: 60_000 });
