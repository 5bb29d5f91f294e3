// The one error type of the patch algorithms. Each failure carries a code the apiserver maps
// to an HTTP Status (a malformed patch is a 400, a failed JSON Patch `test` or a path that
// does not exist is a 422 in Kubernetes), the path that failed, and for JSON Patch the index
// of the failing operation, so a client can see exactly which step was refused.

export type PatchErrorCode =
  /** The patch document itself is malformed (not a list of ops, unknown op, bad directive). */
  | 'InvalidPatch'
  /** A JSON Pointer is not syntactically valid (RFC 6901). */
  | 'InvalidPointer'
  /** The path (or `from`) names a location that does not exist. */
  | 'PathNotFound'
  /** The target exists but cannot take the operation (e.g. an index past the end, a scalar parent). */
  | 'InvalidTarget'
  /** A JSON Patch `test` operation did not match. */
  | 'TestFailed';

export class PatchError extends Error {
  override readonly name = 'PatchError';

  constructor(
    readonly code: PatchErrorCode,
    message: string,
    /** Where it failed: a JSON Pointer for JSON Patch, a dotted field path otherwise. */
    readonly path: string,
    /** For JSON Patch: the zero-based index of the failing operation. */
    readonly operationIndex?: number,
  ) {
    super(message);
  }
}
