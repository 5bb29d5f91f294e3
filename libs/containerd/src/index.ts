// @keel/containerd: a node's containerd — its config files, start and stop by PID,
// and teardown of everything it leaves behind.
export {
  cidrsOverlap,
  cniNetworkName,
  gatewayOf,
  nodePaths,
  parseCidr,
  renderCniConflist,
  renderContainerdConfig,
  renderHostsToml,
  renderNodeFiles,
  type NodePaths,
  type NodeRuntimeSettings,
} from './config';
export {
  readRecord,
  runningPid,
  startContainerd,
  stopContainerd,
  teardownNode,
  type NodeRecord,
  type RunningContainerd,
  type StartOptions,
  type TeardownReport,
} from './launcher';
export { portmapCleanupScript } from './network';
export { removeCgroup } from './cgroups';
