// Max requests in flight (--max-requests-inflight, --max-mutating-requests-inflight): a
// counter per kind of request, read-only and mutating apart so a flood of writes cannot starve
// reads, or the reverse. Beyond the limit the answer is 429 TooManyRequests with Retry-After,
// which client-go retries. Long-running requests (watches, streams) are never counted, and
// system:masters is exempt, as in kube-apiserver (its admins must get in during an overload).
import { ApiErrors } from '@keel/api';

export interface InflightLimits {
  /** Concurrent read-only requests; 0 = no limit. */
  readOnly: number;
  /** Concurrent mutating requests; 0 = no limit. */
  mutating: number;
}

export class InflightLimiter {
  private readOnly = 0;
  private mutating = 0;

  constructor(readonly limits: InflightLimits) {}

  /** Counts a request in; the returned function counts it out. Throws 429 when full. */
  acquire(readOnly: boolean): () => void {
    const limit = readOnly ? this.limits.readOnly : this.limits.mutating;
    const current = readOnly ? this.readOnly : this.mutating;
    if (limit > 0 && current >= limit) throw ApiErrors.tooManyRequests('Too many requests, please try again later.', 1);
    if (readOnly) this.readOnly++;
    else this.mutating++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (readOnly) this.readOnly--;
      else this.mutating--;
    };
  }

  /** Requests being served now, for metrics and tests. */
  get inFlight(): { readOnly: number; mutating: number } {
    return { readOnly: this.readOnly, mutating: this.mutating };
  }
}
