// @keel/testing: pure test helpers — a linearizability checker with an etcd-like KV model,
// a watch-stream checker, and a seeded PRNG. No I/O, no timers, no clock.
export { checkLinearizable, type CheckOptions, type CheckReport, type CheckResult, type Explanation, type Model, type Operation } from './linearizability';
export {
  checkHistoryExplained,
  checkRevisionOrder,
  kvModel,
  kvStep,
  patchUnknownWrites,
  type HistoryEvent,
  type KeyState,
  type KvInput,
  type KvOperation,
  type KvOutput,
} from './kv-model';
export { checkAckedWrites, checkWatches, coveredRevision, inRange, type AckedWrite, type WatchRange, type WatchRecord } from './watch-check';
export { checkRun, parseRun, stringifyRun, type RecordedRun, type RunVerdict } from './run';
export { seededRandom, type Random } from './random';
