// The result of a plugin: a status value, never an exception. `Unschedulable` means another
// cluster state (more room, a pod gone) could help; `UnschedulableAndUnresolvable` means
// preempting pods on that node would not help either; `Skip` from a PreFilter means the
// plugin has nothing to check for this pod, so its Filter is not called.

export type Code = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error' | 'Skip';

export interface Status {
  readonly code: Code;
  /** Human reasons, exactly as they appear in the FailedScheduling message. */
  readonly reasons: readonly string[];
  /** The plugin that failed, filled in by the framework. */
  plugin?: string;
}

const SUCCESS: Status = Object.freeze({ code: 'Success', reasons: [] as string[] });
const SKIP: Status = Object.freeze({ code: 'Skip', reasons: [] as string[] });

export const Status = {
  /** Shared and frozen: success is the hot path, so it allocates nothing. */
  success: (): Status => SUCCESS,
  skip: (): Status => SKIP,
  unschedulable: (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons }),
  unresolvable: (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons }),
  error: (message: string): Status => ({ code: 'Error', reasons: [message] }),
  isSuccess: (s: Status): boolean => s.code === 'Success',
  isRejected: (s: Status): boolean => s.code === 'Unschedulable' || s.code === 'UnschedulableAndUnresolvable',
};
