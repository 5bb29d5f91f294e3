// @keel/tools-store: a keel-store cluster of real processes on loopback, for tests and benchmarks.
export { bundleApp, bundleStore, startStoreCluster, type StartOptions, type StoreCluster, type StoreMember } from './cluster';
