// The API boundary's one error type. Every failure the apiserver reports is an ApiError
// with a reason from Kubernetes' StatusReason vocabulary; this file is the single table
// mapping each reason to its HTTP status code and its gRPC status code, and it renders
// the meta/v1 `Status` object kubectl expects (field paths in `details.causes`).
// Pure: no I/O, so gRPC codes are plain numbers (the published grpc status code values).

/** gRPC status codes, as published by gRPC (numbers are the wire values). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** One row per reason: the HTTP code Kubernetes answers with, and our gRPC code. */
const reasonTable = {
  BadRequest: { http: 400, grpc: GrpcCode.INVALID_ARGUMENT },
  Unauthorized: { http: 401, grpc: GrpcCode.UNAUTHENTICATED },
  Forbidden: { http: 403, grpc: GrpcCode.PERMISSION_DENIED },
  NotFound: { http: 404, grpc: GrpcCode.NOT_FOUND },
  MethodNotAllowed: { http: 405, grpc: GrpcCode.UNIMPLEMENTED },
  NotAcceptable: { http: 406, grpc: GrpcCode.INVALID_ARGUMENT },
  AlreadyExists: { http: 409, grpc: GrpcCode.ALREADY_EXISTS },
  Conflict: { http: 409, grpc: GrpcCode.ABORTED },
  Gone: { http: 410, grpc: GrpcCode.OUT_OF_RANGE },
  Expired: { http: 410, grpc: GrpcCode.OUT_OF_RANGE },
  RequestEntityTooLarge: { http: 413, grpc: GrpcCode.RESOURCE_EXHAUSTED },
  UnsupportedMediaType: { http: 415, grpc: GrpcCode.INVALID_ARGUMENT },
  Invalid: { http: 422, grpc: GrpcCode.INVALID_ARGUMENT },
  TooManyRequests: { http: 429, grpc: GrpcCode.RESOURCE_EXHAUSTED },
  InternalError: { http: 500, grpc: GrpcCode.INTERNAL },
  ServiceUnavailable: { http: 503, grpc: GrpcCode.UNAVAILABLE },
  Timeout: { http: 504, grpc: GrpcCode.DEADLINE_EXCEEDED },
} as const satisfies Record<string, { http: number; grpc: GrpcCode }>;

export type StatusReason = keyof typeof reasonTable;

/** One bad field (or other cause) in a `Status`'s `details.causes`. */
export interface StatusCause {
  /** e.g. `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`. */
  reason: string;
  message: string;
  /** The field path, e.g. `spec.containers[0].image`. */
  field?: string;
}

/** Which object the error is about; fills `details` of the Status. */
export interface StatusSubject {
  name?: string;
  group?: string;
  kind?: string;
}

/** meta/v1 Status, as it travels over REST. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  details?: StatusSubject & { causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly subject: StatusSubject = {},
    readonly causes: readonly StatusCause[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return reasonTable[this.reason].http;
  }

  get grpcCode(): GrpcCode {
    return reasonTable[this.reason].grpc;
  }

  /** The meta/v1 Status body for this error. */
  toStatus(): Status {
    const details: NonNullable<Status['details']> = { ...this.subject };
    if (this.causes.length > 0) details.causes = this.causes.map((c) => ({ ...c }));
    if (this.retryAfterSeconds !== undefined) details.retryAfterSeconds = this.retryAfterSeconds;
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.httpStatus,
    };
    if (Object.keys(details).length > 0) status.details = details;
    return status;
  }

  /** Rebuilds an ApiError from a Status body (for clients reading REST answers). */
  static fromStatus(status: Pick<Status, 'reason' | 'message' | 'details'>): ApiError {
    const reason: StatusReason = isStatusReason(status.reason) ? status.reason : 'InternalError';
    const { causes = [], retryAfterSeconds, ...subject } = status.details ?? {};
    return new ApiError(reason, status.message, subject, causes, retryAfterSeconds);
  }
}

export function isStatusReason(value: unknown): value is StatusReason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(reasonTable, value);
}

/** A resource's qualified name for messages: `pods`, `deployments.apps`. */
function qualified(resource: { group?: string; resource: string }): string {
  return resource.group ? `${resource.resource}.${resource.group}` : resource.resource;
}

/** Constructors with Kubernetes' own wording, so clients see familiar messages. */
export const ApiErrors = {
  notFound(resource: { group?: string; resource: string }, name: string): ApiError {
    return new ApiError('NotFound', `${qualified(resource)} "${name}" not found`, {
      name,
      group: resource.group ?? '',
      kind: resource.resource,
    });
  },
  alreadyExists(resource: { group?: string; resource: string }, name: string): ApiError {
    return new ApiError('AlreadyExists', `${qualified(resource)} "${name}" already exists`, {
      name,
      group: resource.group ?? '',
      kind: resource.resource,
    });
  },
  conflict(resource: { group?: string; resource: string }, name: string, why: string): ApiError {
    return new ApiError(
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${why}`,
      { name, group: resource.group ?? '', kind: resource.resource },
    );
  },
  /** 422 with one cause per bad field: `Kind.group "name" is invalid: field: message, ...`. */
  invalid(kind: { group?: string; kind: string }, name: string, causes: StatusCause[]): ApiError {
    const qualifiedKind = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
    const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    return new ApiError('Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
      name,
      group: kind.group ?? '',
      kind: kind.kind,
    }, causes);
  },
  badRequest(message: string): ApiError {
    return new ApiError('BadRequest', message);
  },
  gone(message: string): ApiError {
    return new ApiError('Expired', message);
  },
  forbidden(message: string): ApiError {
    return new ApiError('Forbidden', message);
  },
  tooManyRequests(message: string, retryAfterSeconds: number): ApiError {
    return new ApiError('TooManyRequests', message, {}, [], retryAfterSeconds);
  },
  internal(message: string): ApiError {
    return new ApiError('InternalError', `Internal error occurred: ${message}`);
  },
} as const;
