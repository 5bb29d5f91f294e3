// The proxy's one error type: everything that crosses the proxy's boundary (a command that
// failed, a network that is not safe to touch, a bad option) is a ProxyError with a code,
// so the agent can log, retry or stop on the code without parsing messages.

export type ProxyErrorCode =
  /** iptables-restore refused the batch; the next sync must be a full one. */
  | 'RestoreFailed'
  /** Another command (iptables-save, ip, sysctl, conntrack) failed. */
  | 'CommandFailed'
  /** Doing what was asked would touch routes or links that are not ours. */
  | 'Unsafe'
  /** A bad option given to the proxy. */
  | 'Invalid';

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  constructor(
    readonly code: ProxyErrorCode,
    message: string,
  ) {
    super(message);
  }
}
