// ApiError on the gRPC wire, both ways. The apiserver answers a failed keel.v1 call with
// ApiError's gRPC code and the meta/v1 Status JSON in the trailing metadata key
// `keel-status-bin`; the client rebuilds the very same ApiError (reason, message, details
// and causes) from it. Failures that never reached the handler (no server, a deadline, a
// proxy) carry no Status and become the nearest ApiError by their gRPC code.
import * as grpc from '@grpc/grpc-js';
import { ApiError, ApiErrors, type Status, type StatusReason } from '@keel/api';

/** The trailer that carries the Status JSON (binary, hence `-bin`). */
export const STATUS_TRAILER = 'keel-status-bin';

/** The grpc-js error a server hands to a callback or emits on a stream. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> & { code: grpc.status } {
  const apiErr = err instanceof ApiError ? err : ApiErrors.internal(err instanceof Error ? err.message : String(err));
  const metadata = new grpc.Metadata();
  metadata.set(STATUS_TRAILER, Buffer.from(JSON.stringify(apiErr.toStatus())));
  return { code: apiErr.grpcCode as number as grpc.status, details: apiErr.message, metadata };
}

/** Reasons for gRPC failures that carry no Status (the call never reached the handler). */
const reasonByCode: Partial<Record<grpc.status, StatusReason>> = {
  [grpc.status.INVALID_ARGUMENT]: 'BadRequest',
  [grpc.status.DEADLINE_EXCEEDED]: 'Timeout',
  [grpc.status.NOT_FOUND]: 'NotFound',
  [grpc.status.ALREADY_EXISTS]: 'AlreadyExists',
  [grpc.status.PERMISSION_DENIED]: 'Forbidden',
  [grpc.status.RESOURCE_EXHAUSTED]: 'TooManyRequests',
  [grpc.status.ABORTED]: 'Conflict',
  [grpc.status.OUT_OF_RANGE]: 'Expired',
  [grpc.status.UNIMPLEMENTED]: 'MethodNotAllowed',
  [grpc.status.UNAVAILABLE]: 'ServiceUnavailable',
  [grpc.status.UNAUTHENTICATED]: 'Unauthorized',
  [grpc.status.CANCELLED]: 'Timeout',
};

/** The ApiError a failed call means: the server's own Status when it sent one. */
export function fromServiceError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as Partial<grpc.ServiceError> | undefined;
  const raw = e?.metadata?.get(STATUS_TRAILER)[0];
  if (raw !== undefined) {
    try {
      return ApiError.fromStatus(JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw) as Status);
    } catch {
      // A trailer we cannot read: fall back to the code below.
    }
  }
  const code = typeof e?.code === 'number' ? (e.code as grpc.status) : grpc.status.UNKNOWN;
  const reason = reasonByCode[code] ?? 'InternalError';
  const message = e?.details || e?.message || String(err);
  return new ApiError(reason, code === grpc.status.UNAVAILABLE ? `the apiserver is unavailable: ${message}` : message);
}
