// The randomized simulator (test/simulator.ts) over many seeds: 3 and 5 nodes, with and
// without PreVote and CheckQuorum, with and without membership changes, with leadership
// transfers, under message loss, duplication, delay, reordering, partitions, crashes and
// restarts. A failure names its seed; replay it alone with
// RAFT_SEED=<seed> (add RAFT_SIM_TRACE=1 for the last events). RAFT_SIM_SEEDS=<n> runs
// more seeds than the default.

import { describe, expect, it } from 'vitest';
import { Simulation, type SimOptions } from '../test/simulator';

const seeds = Number(process.env['RAFT_SIM_SEEDS'] ?? '400');
const steps = Number(process.env['RAFT_SIM_STEPS'] ?? '300');
const only = process.env['RAFT_SEED'];
const trace = process.env['RAFT_SIM_TRACE'] === '1';

/** Seed n's shape: the size and options cycle so every combination gets its share of seeds. */
function optionsFor(seed: number): SimOptions {
  return {
    seed,
    nodes: seed % 2 === 0 ? 3 : 5,
    preVote: Math.floor(seed / 2) % 2 === 1,
    checkQuorum: Math.floor(seed / 4) % 2 === 1,
    membership: Math.floor(seed / 8) % 2 === 1,
    steps,
    trace,
  };
}

describe('randomized simulation: Figure 3 safety properties and liveness after healing', () => {
  if (only !== undefined) {
    it(`seed ${only}`, () => {
      const result = new Simulation(optionsFor(Number(only))).run();
      console.log(`seed ${only}:`, result);
    });
    return;
  }

  it(`${seeds} seeds x ${steps} steps`, { timeout: 120_000 }, () => {
    const failures: string[] = [];
    let proposed = 0;
    let acknowledged = 0;
    let snapshots = 0;
    let crashes = 0;
    let maxTicksToLeader = 0;
    let confChanges = 0;
    let transfers = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      try {
        const r = new Simulation(optionsFor(seed)).run();
        proposed += r.proposed;
        acknowledged += r.acknowledged;
        snapshots += r.snapshotsSent;
        crashes += r.crashes;
        maxTicksToLeader = Math.max(maxTicksToLeader, r.ticksToLeader);
        confChanges += r.confChanges;
        transfers += r.transfers;
      } catch (e) {
        failures.push(`RAFT_SEED=${seed}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        if (failures.length >= 5) break;
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    // The faults must actually have exercised the interesting paths.
    expect(acknowledged).toBeGreaterThan(seeds * 10);
    expect(snapshots).toBeGreaterThan(0);
    expect(crashes).toBeGreaterThan(0);
    expect(confChanges).toBeGreaterThan(0);
    console.log(
      `simulated ${seeds} seeds x ${steps} steps: ${proposed} proposals, ${acknowledged} committed, ${snapshots} snapshots sent, ${crashes} crashes, ${confChanges} membership changes proposed, ${transfers} leadership transfers, leader after healing within ${maxTicksToLeader} ticks`,
    );
  });
});
