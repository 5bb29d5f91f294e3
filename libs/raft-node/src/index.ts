// @keel/raft-node: runs the pure Raft core of @keel/raft for real. RaftHost drives a
// RaftNode with a clock, persists each Ready in one LevelDB write (LevelStorage), talks to
// peers over gRPC (GrpcTransport, protos/raft), and applies committed entries through the
// application's StateMachine. Clock, storage and transport are interfaces, so a host can
// run in tests on FakeClock, MemoryDurableStorage and LocalNetwork.

export { RaftHost, type AppliedEntry, type HostStatus, type RaftHostOptions, type StateMachine } from './host';
export { LevelStorage, entryKey } from './level-storage';
export { MemoryDurableStorage, type DurableStorage, type StorageUpdate } from './storage';
export { GrpcTransport, type GrpcTransportOptions } from './grpc-transport';
export { LocalNetwork, type Transport, type TransportHandler } from './transport';
export { FakeClock, systemClock, type Cancel, type Clock } from './clock';
export { RaftNodeError, type RaftNodeErrorCode } from './errors';
