// The CRI boundary's one error type. Every failure a CRI call, a stream session or the
// log reader reports is a CriError with a code: the gRPC status of a unary call mapped to
// a name, plus the few ways a stream can fail on its own (the WebSocket upgrade refused,
// a protocol the runtime does not speak, a session that ended without an exit status).
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

export type CriErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Timeout'
  | 'Unavailable'
  | 'Unimplemented'
  | 'PermissionDenied'
  | 'ResourceExhausted'
  | 'Canceled'
  | 'Internal'
  | 'Unknown'
  /** The stream server refused or broke the WebSocket session. */
  | 'StreamFailed'
  /** The peer spoke something other than the channel protocol we expect. */
  | 'Protocol';

const fromGrpc: Record<number, CriErrorCode> = {
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
  [GrpcStatus.OUT_OF_RANGE]: 'InvalidArgument',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'Timeout',
  [GrpcStatus.UNAVAILABLE]: 'Unavailable',
  [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcStatus.PERMISSION_DENIED]: 'PermissionDenied',
  [GrpcStatus.UNAUTHENTICATED]: 'PermissionDenied',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [GrpcStatus.CANCELLED]: 'Canceled',
  [GrpcStatus.ABORTED]: 'FailedPrecondition',
  [GrpcStatus.INTERNAL]: 'Internal',
  [GrpcStatus.DATA_LOSS]: 'Internal',
  [GrpcStatus.UNKNOWN]: 'Unknown',
};

export class CriError extends Error {
  override readonly name = 'CriError';

  constructor(
    readonly code: CriErrorCode,
    message: string,
    /** The CRI method (e.g. `RunPodSandbox`) or stream (`exec`) that failed. */
    readonly method?: string,
    /** The gRPC status code, when the error came from a unary call. */
    readonly grpcCode?: number,
  ) {
    super(method ? `${method}: ${message}` : message);
  }

  /** Wraps a gRPC ServiceError (or anything thrown around a call) as a CriError. */
  static fromGrpc(method: string, err: unknown): CriError {
    if (err instanceof CriError) return err;
    const e = err as Partial<ServiceError>;
    if (typeof e?.code === 'number') {
      const code = fromGrpc[e.code] ?? 'Unknown';
      return new CriError(code, e.details || e.message || String(err), method, e.code);
    }
    return new CriError('Unknown', err instanceof Error ? err.message : String(err), method);
  }

  static is(err: unknown, code?: CriErrorCode): err is CriError {
    return err instanceof CriError && (code === undefined || err.code === code);
  }
}
