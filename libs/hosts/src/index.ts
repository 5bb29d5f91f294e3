// @keel/hosts: hosts on this machine — network namespaces on a keel-… bridge, with their
// own addresses, routes and daemons — for multi-node clusters and tests on one machine.
export { cidrsOverlap, containsAddress, formatIpv4, nthAddress, nthSubnet, parseCidr, parseIpv4 } from './cidr';
export {
  bridgeOf,
  egressGuardRule,
  inHostArgv,
  publishLoopbackRule,
  type Bridge,
  type BridgeSpec,
  type Command,
  type RouteSpec,
} from './commands';
export {
  addEgressGuard,
  addHost,
  addRoute,
  ensureBridge,
  hostExists,
  hostSysctl,
  killHost,
  linkExists,
  pidsInHost,
  publishLoopbackPort,
  removeBridge,
  removeHost,
  removeRoute,
  runInHost,
  startInHost,
  stopInHost,
  type Host,
} from './hosts';
export { assertKeelName, assertLinkName, netnsPath, vethName, HOST_INTERFACE } from './names';
export { registryForHosts, startWorker, workerAgentFlags, WORKER_POD_BRIDGE, type WorkerNode, type WorkerOptions } from './worker';
