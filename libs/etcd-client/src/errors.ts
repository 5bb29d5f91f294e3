// The etcd client's one error type: every failed call becomes an EtcdError carrying the
// gRPC status code and etcd's own message, with a `kind` for the failures callers act on
// (a compacted revision means "relist", a lost leader means "retry").
import { status as GrpcStatus } from '@grpc/grpc-js';

export type EtcdErrorKind =
  | 'compacted' // the revision asked for is older than the compaction point
  | 'future-revision' // the revision asked for does not exist yet
  | 'unavailable' // no endpoint answers, or the cluster has no leader right now
  | 'timeout' // the call's deadline passed
  | 'invalid' // the request was malformed
  | 'not-found' // e.g. a lease that does not exist
  | 'canceled'
  | 'other';

export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  constructor(
    readonly kind: EtcdErrorKind,
    message: string,
    readonly grpcCode: number,
    readonly compactRevision?: number,
  ) {
    super(message);
  }

  /** Builds an EtcdError from a gRPC error; etcd's message decides the kind where codes overlap. */
  static fromGrpc(err: unknown, what: string): EtcdError {
    if (err instanceof EtcdError) return err;
    const e = err as { code?: number; details?: string; message?: string };
    const code = typeof e.code === 'number' ? e.code : GrpcStatus.UNKNOWN;
    const detail = e.details || e.message || String(err);
    const message = `${what}: ${detail}`;
    if (/required revision has been compacted/.test(detail)) return new EtcdError('compacted', message, code);
    if (/required revision is a future revision/.test(detail)) return new EtcdError('future-revision', message, code);
    if (/requested lease not found/.test(detail)) return new EtcdError('not-found', message, code);
    switch (code) {
      case GrpcStatus.UNAVAILABLE:
        return new EtcdError('unavailable', message, code);
      case GrpcStatus.DEADLINE_EXCEEDED:
        return new EtcdError('timeout', message, code);
      case GrpcStatus.INVALID_ARGUMENT:
      case GrpcStatus.FAILED_PRECONDITION:
        return new EtcdError('invalid', message, code);
      case GrpcStatus.NOT_FOUND:
        return new EtcdError('not-found', message, code);
      case GrpcStatus.CANCELLED:
        return new EtcdError('canceled', message, code);
      default:
        return new EtcdError('other', message, code);
    }
  }
}
