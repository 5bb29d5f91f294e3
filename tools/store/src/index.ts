// @keel/tools-store: a keel-store cluster of real processes on loopback, for tests and benchmarks.
export { bundleStore, startStoreCluster, type StartOptions, type StoreCluster, type StoreMember } from './cluster';
