// @keel/cri: Keel's client for a CRI runtime (containerd): typed unary calls with
// deadlines and coded errors, exec/attach/port-forward streams, and the CRI log reader.
export { CriClient, normalizeEndpoint } from './client';
export type { CallOptions, CriClientOptions, RuntimeConditions } from './client';
export { CriError } from './errors';
export type { CriErrorCode } from './errors';
export { forwardLocalPort } from './portforward';
export type { LocalForward, LocalForwardOptions } from './portforward';
export { ExecSession, PortForwardSession, STREAM_PROTOCOL, exitCodeFromStatus, runExec } from './stream';
export type { ExecResult, StreamOptions } from './stream';
export { LogParser, formatRfc3339Nano, parseLogPiece, parseRfc3339Nano, readAllLogs, readLogs } from './logs';
export type { LogLine, LogPiece, LogStream, ReadLogsOptions } from './logs';
export { dateToNanos, nanos, nanosToDate } from './time';
export * from './types';
