// Reads Vitest's JSON report and prints the one closing line the suite promises:
// "tests: N passed, N failed, N skipped". Exits non-zero when nothing ran.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (failed > 0) {
  for (const file of report.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'failed') console.log(`failed: ${file.name.replace(process.cwd() + '/', '')} > ${t.fullName}`);
    }
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) {
      console.log(`failed: ${file.name.replace(process.cwd() + '/', '')}: ${(file.message ?? '').split('\n')[0]}`);
    }
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed + failed === 0) process.exit(1);
