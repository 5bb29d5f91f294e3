// How a case ends other than by passing: a failed check (with what was wanted and what
// came) or a skip (the runtime cannot be checked this way here). Anything else a case
// throws — a CriError from a call, say — is a failure too, reported with its message.

/** Thrown by a case (via `skip()`) when the runtime cannot be checked this way here. */
export class SkipCase extends Error {
  override readonly name = 'SkipCase';
}

export function skip(reason: string): never {
  throw new SkipCase(reason);
}

/** A failed expectation, with a message that says what was wanted and what came. */
export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/\s+/g, ' ').trim();
  return String(err);
}
