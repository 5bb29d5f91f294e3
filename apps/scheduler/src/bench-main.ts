// `keel-scheduler`'s benchmark entry: runs the in-memory benchmark with the given sizes and
// prints one JSON line. tools/bench-scheduler starts it and tabulates the results.
import { Command, InvalidArgumentError } from 'commander';
import { runInMemoryBench, type Workload } from './bench/in-memory';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const program = new Command('keel-scheduler-bench')
  .description('measure the scheduling algorithm over hollow nodes held in memory (no apiserver)')
  .option('--nodes <n>', 'hollow nodes', count, 5000)
  .option('--pods <n>', 'pending pods', count, 10000)
  .option('--workload <name>', 'basic | spread | affinity', 'basic')
  .action(async (opts: { nodes: number; pods: number; workload: Workload }) => {
    const result = await runInMemoryBench(opts);
    process.stdout.write(JSON.stringify(result) + '\n');
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`keel-scheduler-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
