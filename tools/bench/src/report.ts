// The suite's report: report.md (a summary table, then per benchmark its command,
// conditions, table, comparison figure and charts; a failed benchmark says so with the
// end of its log) and report.json (the same outcomes with every benchmark's own JSON, for
// comparing runs). Pure: outcomes in, text out.
import { mdTable } from './markdown';
import type { Section } from './suites';

export interface Outcome {
  id: string;
  title: string;
  /** The command as run, for copying. */
  command: string;
  status: 'ok' | 'failed' | 'skipped';
  seconds: number;
  loadBefore: number;
  loadAfter: number;
  error?: string;
  /** Something the reader should know about how the command ran. */
  note?: string;
  /** The benchmark's own JSON. */
  json?: unknown;
  section?: Section;
  logFile?: string;
}

export interface RunInfo {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt: string;
  machine: string;
  node: string;
  commit: string;
  note?: string;
}

/** The start of a long text, for the summary table (the full text is in the section). */
export const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const barText = (o: Outcome) => (o.status !== 'ok' ? '–' : o.section?.barMet === undefined ? 'n/a' : o.section.barMet ? 'met' : 'not met');

export function reportMarkdown(run: RunInfo, outcomes: Outcome[]): string {
  const failed = outcomes.filter((o) => o.status === 'failed');
  const out: string[] = [
    `# Keel benchmark report (${run.mode})`,
    '',
    `Started ${run.startedAt}, finished ${run.finishedAt}; ${run.machine}; Node ${run.node}; commit ${run.commit}.`,
    ...(run.note ? ['', `Note: ${run.note}`] : []),
    '',
    failed.length ? `**${failed.length} of ${outcomes.length} benchmarks failed: ${failed.map((o) => o.id).join(', ')}.**` : `All ${outcomes.filter((o) => o.status === 'ok').length} benchmarks ran.`,
    '',
    mdTable(
      ['benchmark', 'status', 'seconds', 'load avg before → after', 'comparison', 'bar'],
      outcomes.map((o) => [o.title, o.status, o.seconds.toFixed(0), `${o.loadBefore.toFixed(1)} → ${o.loadAfter.toFixed(1)}`, o.status === 'ok' ? (o.section?.comparison ?? '') : clip(o.error ?? '', 160), barText(o)]),
      ['left', 'left', 'right', 'right', 'left', 'left'],
    ),
  ];
  for (const o of outcomes) {
    out.push('', `## ${o.title}`, '', `Command: \`${o.command}\` — ${o.status}, ${o.seconds.toFixed(0)} s, load average ${o.loadBefore.toFixed(1)} → ${o.loadAfter.toFixed(1)}.`);
    if (o.status !== 'ok' || !o.section) {
      out.push('', `**${o.status === 'skipped' ? 'Skipped' : 'Failed'}**: ${o.error ?? 'no result'}${o.logFile ? ` (log: \`${o.logFile}\`)` : ''}`);
      continue;
    }
    const s = o.section;
    if (o.note) out.push('', `Note: the command ${o.note}.`);
    out.push('', 'Conditions:', '', ...s.conditions.map((c) => `- ${c}`), '', s.table, '', `**Comparison**: ${s.comparison}`);
    for (const c of s.charts) out.push('', `![${c.title}](charts/${c.file})`);
  }
  return out.join('\n') + '\n';
}

export function reportJson(run: RunInfo, outcomes: Outcome[]): unknown {
  return {
    run,
    benchmarks: outcomes.map((o) => ({
      id: o.id,
      title: o.title,
      command: o.command,
      status: o.status,
      seconds: Math.round(o.seconds * 10) / 10,
      loadBefore: o.loadBefore,
      loadAfter: o.loadAfter,
      ...(o.error ? { error: o.error } : {}),
      ...(o.note ? { note: o.note } : {}),
      ...(o.section ? { comparison: o.section.comparison, barMet: o.section.barMet ?? null, charts: o.section.charts.map((c) => `charts/${c.file}`) } : {}),
      result: o.json ?? null,
    })),
  };
}

/** The suite's exit code: non-zero when any benchmark failed. */
export function exitCode(outcomes: Outcome[]): number {
  return outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

/** A folder name for this run: the UTC time, safe in a path (2026-11-25T17-40-03Z). */
export function runFolderName(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}
