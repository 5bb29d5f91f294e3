// The MVCC boundary's one error type. Every refusal the store makes is an MvccError with a
// code; this file is the single table mapping each code to etcd's own message (the text
// etcd clients match on), the gRPC status code etcd answers with, and the message etcd's
// gRPC layer sends (`etcdserver: ...`). A refusal made while applying a log entry is
// deterministic: every member refuses the same entry the same way, and the applied index
// still advances.

/** gRPC status codes as published by gRPC (wire values). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

const codeTable = {
  Compacted: {
    message: 'mvcc: required revision has been compacted',
    grpc: GrpcCode.OUT_OF_RANGE,
    grpcMessage: 'etcdserver: mvcc: required revision has been compacted',
  },
  FutureRevision: {
    message: 'mvcc: required revision is a future revision',
    grpc: GrpcCode.OUT_OF_RANGE,
    grpcMessage: 'etcdserver: mvcc: required revision is a future revision',
  },
  KeyNotFound: { message: 'key not found', grpc: GrpcCode.INVALID_ARGUMENT, grpcMessage: 'etcdserver: key not found' },
  EmptyKey: { message: 'key is not provided', grpc: GrpcCode.INVALID_ARGUMENT, grpcMessage: 'etcdserver: key is not provided' },
  DuplicateKey: {
    message: 'duplicate key given in txn request',
    grpc: GrpcCode.INVALID_ARGUMENT,
    grpcMessage: 'etcdserver: duplicate key given in txn request',
  },
  LeaseNotFound: { message: 'lease not found', grpc: GrpcCode.NOT_FOUND, grpcMessage: 'etcdserver: requested lease not found' },
  LeaseExists: { message: 'lease already exists', grpc: GrpcCode.FAILED_PRECONDITION, grpcMessage: 'etcdserver: lease already exists' },
  LeaseTtlTooLarge: { message: 'too large lease TTL', grpc: GrpcCode.OUT_OF_RANGE, grpcMessage: 'etcdserver: too large lease TTL' },
  Invalid: { message: 'invalid request', grpc: GrpcCode.INVALID_ARGUMENT, grpcMessage: 'etcdserver: invalid request' },
  Corrupt: { message: 'mvcc: snapshot or data is corrupt', grpc: GrpcCode.DATA_LOSS, grpcMessage: 'etcdserver: corrupt data' },
  Closed: { message: 'mvcc: store is closed', grpc: GrpcCode.UNAVAILABLE, grpcMessage: 'etcdserver: server stopped' },
} as const satisfies Record<string, { message: string; grpc: GrpcCode; grpcMessage: string }>;

export type MvccErrorCode = keyof typeof codeTable;

export class MvccError extends Error {
  override readonly name = 'MvccError';

  /** `detail` replaces the default message (e.g. to name the bad field); etcd's text stays in grpcMessage. */
  constructor(
    readonly code: MvccErrorCode,
    detail?: string,
  ) {
    super(detail ?? codeTable[code].message);
  }

  get grpcCode(): GrpcCode {
    return codeTable[this.code].grpc;
  }

  /** The status message etcd's gRPC layer sends for this error; clients match on it. */
  get grpcMessage(): string {
    return this.code === 'Invalid' ? `etcdserver: ${this.message}` : codeTable[this.code].grpcMessage;
  }

  static is(err: unknown, code?: MvccErrorCode): err is MvccError {
    return err instanceof MvccError && (code === undefined || err.code === code);
  }
}
