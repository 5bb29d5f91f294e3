// The suite's runner: named cases, each run with its own deadline, its own pods removed
// after it whatever happened, and a result (passed, failed with a reason, or skipped with
// one). A case that overruns its deadline is reported as failed and the suite moves on;
// the calls it left in flight all carry their own deadlines, so nothing hangs the process.
import { CheckFailed, SkipCase, reasonOf } from './errors';
import type { Fixture } from './fixture';

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  name: string;
  status: CaseStatus;
  /** Why it failed or was skipped; empty when it passed. */
  reason: string;
  durationMs: number;
}

export interface ConformanceCase {
  /** `group/name`, e.g. `sandbox/stop-remove-idempotent`. */
  name: string;
  /** What the case checks, one line. */
  description: string;
  run(f: Fixture): Promise<void>;
  /** A case-specific deadline, when the default is too short (ms). */
  timeoutMs?: number;
}

/** Races `work` against a deadline; the loser is left to settle on its own deadlines. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`${what} timed out after ${(ms / 1000).toFixed(1)} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one case in a fresh fixture scope, then removes what the case created. */
export async function runCase(c: ConformanceCase, fixture: Fixture, defaultTimeoutMs: number): Promise<CaseResult> {
  const started = Date.now();
  const scope = fixture.scope(c.name);
  let status: CaseStatus = 'passed';
  let reason = '';
  try {
    await withDeadline(c.run(scope), c.timeoutMs ?? defaultTimeoutMs, 'case');
  } catch (err) {
    if (err instanceof SkipCase) {
      status = 'skipped';
      reason = err.message;
    } else {
      status = 'failed';
      reason = reasonOf(err);
    }
  }
  const problems = await scope.cleanup();
  if (problems.length && status === 'passed') {
    status = 'failed';
    reason = `cleanup: ${problems.join('; ')}`;
  }
  return { name: c.name, status, reason, durationMs: Date.now() - started };
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
}

export function summarize(results: CaseResult[]): Summary {
  return {
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
  };
}

export function summaryLine(s: Summary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}

/** One line per case, as the CLI prints it. */
export function formatResult(r: CaseResult): string {
  const tag = r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'SKIP';
  const time = `${r.durationMs} ms`;
  return r.reason ? `${tag}  ${r.name} (${time}): ${r.reason}` : `${tag}  ${r.name} (${time})`;
}
