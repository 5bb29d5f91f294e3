// keel-store's robustness run as a command: `npx tsx tools/robustness/src/main.ts
// --seeds 20 --seconds 60 --clients 8 [--first-seed 1] [--no-network] [--replace] [--replay FILE]`.
// One line per seed, then a summary; exits 1 on any anomaly. A failing seed's history is
// saved under tmp/robustness-failure-<seed>.json; `--replay` checks such a file alone.
import { checkRun, parseRun, stringifyRun } from '@keel/testing';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { abortRobustness, runRobustness } from './run';

const repoRoot = resolve(import.meta.dirname, '../../..');

function usage(reason: string): never {
  process.stderr.write(`robustness: ${reason}\nusage: robustness --seeds N --seconds S --clients C [--first-seed N] [--no-network] [--replace] [--replay FILE] [--save-run FILE-WITH-{seed}]\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seeds: { type: 'string', default: '5' },
        seconds: { type: 'string', default: '30' },
        clients: { type: 'string', default: '6' },
        'first-seed': { type: 'string', default: '1' },
        'no-network': { type: 'boolean', default: false },
        replace: { type: 'boolean', default: false },
        replay: { type: 'string' },
        'save-run': { type: 'string' },
        verbose: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.replay) {
    const v = checkRun(parseRun(readFileSync(values.replay, 'utf8')));
    console.log(`replay ${values.replay}: ${v.operations} operations, linearizable: ${v.linearizable}, ${v.anomalies.length} anomalies`);
    for (const a of v.anomalies) console.log(a);
    return v.anomalies.length === 0 && v.linearizable === 'ok' ? 0 : 1;
  }
  const int = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got ${text}`);
    return n;
  };
  const seeds = int('seeds', values.seeds);
  const seconds = int('seconds', values.seconds);
  const clients = int('clients', values.clients);
  const first = int('first-seed', values['first-seed']);
  console.log(`keel-store robustness: 3 members, ${clients} clients, ${seconds} s per seed, seeds ${first}..${first + seeds - 1}, network faults ${values['no-network'] ? 'off' : 'on'}`);
  let ops = 0;
  let faults = 0;
  let failed = 0;
  let unknown = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    const started = performance.now();
    const r = await runRobustness({
      seed,
      seconds,
      clients,
      network: !values['no-network'],
      replace: values.replace,
      failureFile: resolve(repoRoot, 'tmp', `robustness-failure-${seed}.json`),
      log: values.verbose ? (line) => console.log(line) : undefined,
    });
    const v = r.verdict;
    if (values['save-run']) writeFileSync(values['save-run'].replace('{seed}', String(seed)), stringifyRun(r.run));
    ops += v.operations;
    faults += r.faults.length;
    if (v.anomalies.length > 0 || v.linearizable === 'illegal') failed++;
    if (v.linearizable === 'unknown') unknown++;
    console.log(
      `seed ${seed}: ${v.operations} ops (${v.unknownOutcomes} unknown outcomes, ${v.checked} checked), ${r.watchEvents} watch events, ` +
        `${r.faults.length} faults, linearizable: ${v.linearizable}, anomalies: ${v.anomalies.length}, ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s${r.savedTo ? `, saved ${r.savedTo}` : ''}`,
    );
    for (const a of v.anomalies.slice(0, 10)) console.log(`  ${a}`);
  }
  console.log(`summary: ${seeds} seeds, ${ops} operations, ${faults} faults, ${failed} seeds with anomalies, ${unknown} seeds the checker could not decide`);
  return failed > 0 ? 1 : 0;
}

// Interrupted: resume paused members and stop every member before leaving.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    console.error(`robustness: ${signal}, stopping the cluster`);
    void abortRobustness().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`robustness: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
