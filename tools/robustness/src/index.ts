// The robustness run of keel-store as a library, for the long-run command and for the
// store's own CI test.
export { runRobustness, type RobustnessOptions, type RobustnessResult } from './run';
export { ProxiedCluster, type ProxiedMember } from './cluster';
export { PeerProxies, type LinkRules } from './proxy';
