// One recorded robustness run and its whole check, so a failing run saved as JSON can be
// replayed by the checker alone (`checkRun(parseRun(text))`).
import { checkLinearizable, type CheckResult } from './linearizability';
import { checkHistoryExplained, checkRevisionOrder, kvModel, patchUnknownWrites, type HistoryEvent, type KvOperation } from './kv-model';
import { checkAckedWrites, checkWatches, type AckedWrite, type WatchRecord } from './watch-check';

export interface RecordedRun {
  seed: number;
  operations: KvOperation[];
  /** The store's history of writes, read once the run was over (a watch from revision 1). */
  history: HistoryEvent[];
  watches: WatchRecord[];
  /** Faults injected, for the reader. */
  faults?: string[];
}

export interface RunVerdict {
  linearizable: CheckResult;
  anomalies: string[];
  operations: number;
  /** Operations left after settling unknown outcomes from the history. */
  checked: number;
  unknownOutcomes: number;
  steps: number;
}

export function checkRun(run: RecordedRun, opts: { budget?: number } = {}): RunVerdict {
  const anomalies: string[] = [];
  const acked = run.operations.flatMap((op): AckedWrite[] => {
    const o = op.output;
    if (!o || op.ret === Infinity) return [];
    if (op.input.type === 'put' && o.type === 'put') return [{ type: 'PUT', key: op.input.key, value: op.input.value, revision: o.revision }];
    if (op.input.type === 'cas' && o.type === 'cas' && o.succeeded) return [{ type: 'PUT', key: op.input.key, value: op.input.value, revision: o.revision }];
    if (op.input.type === 'delete' && o.type === 'delete' && o.deleted > 0) return [{ type: 'DELETE', key: op.input.key, revision: o.revision }];
    return [];
  });
  anomalies.push(...checkAckedWrites(run.history, acked));
  anomalies.push(...checkWatches(run.history, run.watches));
  anomalies.push(...checkHistoryExplained(run.operations, run.history));
  const patched = patchUnknownWrites(run.operations, run.history);
  anomalies.push(...checkRevisionOrder(patched));
  const report = checkLinearizable(kvModel, patched, { budget: opts.budget });
  if (report.result === 'illegal') anomalies.push(`not linearizable:\n${report.explanation!.text}`);
  return {
    linearizable: report.result,
    anomalies,
    operations: run.operations.length,
    checked: patched.length,
    unknownOutcomes: run.operations.filter((op) => !op.output).length,
    steps: report.steps,
  };
}

/** JSON has no Infinity: an open operation's return is written as null. */
export function stringifyRun(run: RecordedRun): string {
  return JSON.stringify(run, (_k, v: unknown) => (v === Infinity ? null : v), 1);
}

export function parseRun(text: string): RecordedRun {
  const run = JSON.parse(text) as RecordedRun;
  for (const op of run.operations) if (op.ret === null) op.ret = Infinity;
  return run;
}
