// JUnit XML for CI dashboards: one testsuite, one testcase per case, a <failure> or
// <skipped> carrying the reason.
import type { CaseResult } from './suite';

const esc = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 forbids most control characters, which runtime errors may carry.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function junitXml(results: CaseResult[], suiteName = 'cri-conformance', timestamp = new Date()): string {
  const failures = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((sum, r) => sum + r.durationMs, 0);
  const cases = results.map((r) => {
    const [group, ...rest] = r.name.split('/');
    const name = rest.length ? rest.join('/') : r.name;
    const open = `    <testcase classname="${esc(`${suiteName}.${rest.length ? group : 'misc'}`)}" name="${esc(name)}" time="${seconds(r.durationMs)}"`;
    if (r.status === 'passed') return `${open}/>`;
    const inner =
      r.status === 'failed'
        ? `      <failure message="${esc(r.reason)}">${esc(r.reason)}</failure>`
        : `      <skipped message="${esc(r.reason)}"/>`;
    return `${open}>\n${inner}\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(suiteName)}" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${esc(suiteName)}" tests="${results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(total)}" timestamp="${timestamp.toISOString()}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
