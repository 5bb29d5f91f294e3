// `npx tsx tools/cri-conformance/src/main.ts --endpoint unix:///… [--junit F]`: runs the
// CRI conformance suite against a runtime, prints each case and a closing
// `N passed, N failed, N skipped` line, and exits non-zero when a case failed.
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { runConformance } from './conformance';
import { junitXml } from './junit';
import { formatResult, summaryLine } from './suite';

const program = new Command('keel-cri-conformance')
  .description('check that a CRI runtime behaves as the Keel agent relies on')
  .requiredOption('--endpoint <unix:///path>', 'the runtime CRI socket')
  .option('--image-prefix <prefix>', "where Keel's images are", '127.0.0.1:5000/keel')
  .option('--busybox-image <ref>', 'the busybox image (default <prefix>/busybox:1.35)')
  .option('--junit <file>', 'also write JUnit XML here')
  .option('--pod-cidr <cidr>', "the node's pod CIDR, to check pod IPs against")
  .option('--case-timeout <seconds>', 'deadline of one case', '30')
  .option('--focus <regex>', 'run only matching cases')
  .option('--skip <regex>', 'leave out matching cases')
  .option('--keep-images', 'do not remove the images the run pulled')
  .option('--work-dir <dir>', 'folder for logs (named keel-…)')
  .parse();

const o = program.opts<{
  endpoint: string;
  imagePrefix: string;
  busyboxImage?: string;
  junit?: string;
  podCidr?: string;
  caseTimeout: string;
  focus?: string;
  skip?: string;
  keepImages?: boolean;
  workDir?: string;
}>();

async function main(): Promise<number> {
  const caseTimeoutMs = Number(o.caseTimeout) * 1000;
  if (!(caseTimeoutMs > 0)) throw new Error(`--case-timeout must be a positive number, got ${o.caseTimeout}`);
  console.log(`CRI conformance against ${o.endpoint}`);
  const report = await runConformance({
    endpoint: o.endpoint,
    imagePrefix: o.imagePrefix,
    images: o.busyboxImage ? { busybox: o.busyboxImage } : undefined,
    podCidr: o.podCidr,
    caseTimeoutMs,
    focus: o.focus ? new RegExp(o.focus) : undefined,
    skip: o.skip ? new RegExp(o.skip) : undefined,
    keepImages: o.keepImages,
    workDir: o.workDir,
    onResult: (r) => console.log(formatResult(r)),
  });
  for (const p of report.cleanup.problems) console.error(`cleanup problem: ${p}`);
  if (o.junit) writeFileSync(o.junit, junitXml(report.results));
  console.log(`took ${(report.durationMs / 1000).toFixed(1)} s`);
  console.log(summaryLine(report.summary));
  return report.summary.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`cri-conformance: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
