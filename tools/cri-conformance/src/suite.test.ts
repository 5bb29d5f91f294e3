import { describe, expect, it } from 'vitest';
import { CheckFailed, check, skip } from './errors';
import type { Fixture } from './fixture';
import { junitXml } from './junit';
import { formatResult, runCase, summarize, summaryLine, withDeadline, type CaseResult } from './suite';

/** A fixture stand-in: runCase only needs scope() and cleanup(). */
function fakeFixture(cleanupProblems: string[] = []): { fixture: Fixture; cleaned: string[] } {
  const cleaned: string[] = [];
  const fixture = {
    scope: (name: string) => ({ cleanup: async () => (cleaned.push(name), cleanupProblems) }),
  } as unknown as Fixture;
  return { fixture, cleaned };
}

describe('runCase', () => {
  it('passes, fails with the reason, or skips with the reason, and always cleans up', async () => {
    const { fixture, cleaned } = fakeFixture();
    const ok = await runCase({ name: 'a/ok', description: '', run: async () => undefined }, fixture, 1_000);
    const bad = await runCase({ name: 'a/bad', description: '', run: async () => check(1 + 1 === 3, 'arithmetic\n  is broken') }, fixture, 1_000);
    const skipped = await runCase({ name: 'a/skip', description: '', run: async () => skip('no cgroup here') }, fixture, 1_000);
    expect([ok.status, bad.status, skipped.status]).toEqual(['passed', 'failed', 'skipped']);
    expect(bad.reason).toBe('arithmetic is broken');
    expect(skipped.reason).toBe('no cgroup here');
    expect(cleaned).toEqual(['a/ok', 'a/bad', 'a/skip']);
  });

  it('fails a case that overruns its deadline instead of waiting for it', async () => {
    const { fixture, cleaned } = fakeFixture();
    const started = Date.now();
    const r = await runCase({ name: 'a/hang', description: '', run: () => new Promise(() => undefined), timeoutMs: 50 }, fixture, 60_000);
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/timed out after 0\.1 s|timed out after 0\.0 s/);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(cleaned).toEqual(['a/hang']);
  });

  it('fails a passing case whose pods could not be removed', async () => {
    const { fixture } = fakeFixture(['sandbox abc: stuck']);
    const r = await runCase({ name: 'a/leak', description: '', run: async () => undefined }, fixture, 1_000);
    expect(r).toMatchObject({ status: 'failed', reason: 'cleanup: sandbox abc: stuck' });
  });
});

describe('withDeadline', () => {
  it('answers the work when it is in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 100, 'x')).resolves.toBe(7);
    await expect(withDeadline(new Promise(() => undefined), 10, 'the pull')).rejects.toBeInstanceOf(CheckFailed);
  });
});

describe('reporting', () => {
  const results: CaseResult[] = [
    { name: 'runtime/version', status: 'passed', reason: '', durationMs: 3 },
    { name: 'sandbox/run-status', status: 'failed', reason: 'RunPodSandbox: failed <to> get "pause" & more\u0001', durationMs: 20 },
    { name: 'resources/memory-limit', status: 'skipped', reason: 'no memory cgroup', durationMs: 1 },
  ];

  it('counts and prints the closing line', () => {
    expect(summaryLine(summarize(results))).toBe('1 passed, 1 failed, 1 skipped');
    expect(formatResult(results[0]!)).toBe('PASS  runtime/version (3 ms)');
    expect(formatResult(results[2]!)).toBe('SKIP  resources/memory-limit (1 ms): no memory cgroup');
  });

  it('writes escaped JUnit XML with a failure and a skip', () => {
    const xml = junitXml(results, 'cri-conformance', new Date(0));
    expect(xml).toContain('<testsuite name="cri-conformance" tests="3" failures="1" errors="0" skipped="1" time="0.024" timestamp="1970-01-01T00:00:00.000Z">');
    expect(xml).toContain('<testcase classname="cri-conformance.runtime" name="version" time="0.003"/>');
    expect(xml).toContain('<failure message="RunPodSandbox: failed &lt;to&gt; get &quot;pause&quot; &amp; more">');
    expect(xml).toContain('<skipped message="no memory cgroup"/>');
    expect(xml).not.toContain('\u0001');
  });
});
