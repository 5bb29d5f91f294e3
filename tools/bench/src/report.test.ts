import { describe, expect, it } from 'vitest';
import { clip, exitCode, reportJson, reportMarkdown, runFolderName, type Outcome, type RunInfo } from './report';

const run: RunInfo = { mode: 'quick', startedAt: '2026-11-25T17:40:00.000Z', finishedAt: '2026-11-25T17:44:00.000Z', machine: '2 × CPU', node: 'v20', commit: 'abc123', note: 'shared machine' };
const ok: Outcome = {
  id: 'pods',
  title: 'Pod startup',
  command: 'npx tsx tools/bench-pods/src/main.ts --pods 50',
  status: 'ok',
  seconds: 20.4,
  loadBefore: 3,
  loadAfter: 5.5,
  json: { startup: { p99Ms: 1650 } },
  section: { conditions: ['pods: 50'], table: '| a |\n|---|\n| 1 |', comparison: 'p99 1,650 ms — met.', barMet: true, charts: [{ file: 'pod-startup.svg', title: 'pod startup', svg: '<svg/>' }] },
};
const failed: Outcome = { id: 'proxy', title: 'Proxy sync', command: 'npx tsx apps/agent/src/proxy/bench.ts', status: 'failed', seconds: 2, loadBefore: 5, loadAfter: 5, error: 'exit code 1: ip: permission denied', logFile: 'logs/proxy.log' };

describe('reportMarkdown', () => {
  const md = reportMarkdown(run, [ok, failed]);
  it('opens with the run, the note and a summary row per benchmark', () => {
    expect(md).toContain('# Keel benchmark report (quick)');
    expect(md).toContain('Note: shared machine');
    expect(md).toContain('**1 of 2 benchmarks failed: proxy.**');
    expect(md).toContain('| Pod startup | ok | 20 | 3.0 → 5.5 | p99 1,650 ms — met. | met |');
    expect(md).toContain('| Proxy sync | failed | 2 | 5.0 → 5.0 | exit code 1: ip: permission denied | – |');
  });
  it('notes a command that had to be stopped after writing its JSON', () => {
    expect(reportMarkdown(run, [{ ...ok, note: 'wrote its JSON but had not exited 20 s later; stopped with SIGTERM' }])).toContain(
      'Note: the command wrote its JSON but had not exited 20 s later; stopped with SIGTERM.',
    );
  });
  it('gives each benchmark its section: conditions, table, comparison and charts, or why it failed', () => {
    expect(md).toContain('## Pod startup\n\nCommand: `npx tsx tools/bench-pods/src/main.ts --pods 50`');
    expect(md).toContain('- pods: 50\n\n| a |');
    expect(md).toContain('**Comparison**: p99 1,650 ms — met.');
    expect(md).toContain('![pod startup](charts/pod-startup.svg)');
    expect(md).toContain('**Failed**: exit code 1: ip: permission denied (log: `logs/proxy.log`)');
  });
});

describe('clip', () => {
  it('keeps short texts and cuts long ones with an ellipsis', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('a'.repeat(20), 10)).toBe(`${'a'.repeat(9)}…`);
  });
});

describe('reportJson and exitCode', () => {
  it('keeps each benchmark’s own JSON for comparing runs', () => {
    const j = reportJson(run, [ok, failed]) as { benchmarks: { id: string; result: unknown; barMet?: boolean | null; charts?: string[] }[] };
    expect(j.benchmarks[0]).toMatchObject({ id: 'pods', result: { startup: { p99Ms: 1650 } }, barMet: true, charts: ['charts/pod-startup.svg'] });
    expect(j.benchmarks[1]).toMatchObject({ id: 'proxy', result: null, error: 'exit code 1: ip: permission denied' });
  });
  it('is non-zero when any benchmark failed', () => {
    expect(exitCode([ok])).toBe(0);
    expect(exitCode([ok, failed])).toBe(1);
  });
  it('names the run folder by UTC time, without colons', () => {
    expect(runFolderName(new Date('2026-11-25T17:40:03.123Z'))).toBe('2026-11-25T17-40-03Z');
  });
});
