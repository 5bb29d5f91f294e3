// Three member processes on loopback with real LevelDB files, under a steady stream of
// proposals: kill -9 the leader, keep proposing, restart it; twice. Every acknowledged proposal
// must be in every member's applied log, at the index it was acknowledged with, and the
// three logs must converge to the same sequence.

import { afterEach, expect, it } from 'vitest';
import { Procs, call, until, type LogEntry, type MemberSpec, type MemberStatus } from './procs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Also after a timeout, when the test's own finally may never run.
let current: Procs | undefined;
afterEach(async () => {
  await current?.stopAll();
  current = undefined;
});

it('keeps every acknowledged proposal through kill -9 of the leader and its restart', async () => {
  const procs = (current = await Procs.create());
  let stop = false;
  const loops: Promise<void>[] = [];
  try {
    const specs: MemberSpec[] = [];
    for (const id of [1, 2, 3]) specs.push(await procs.spec(id));
    await Promise.all(specs.map((s) => procs.start(s, { bootstrap: specs })));
    const down = new Set<number>();
    const alive = () => specs.filter((s) => !down.has(s.id));

    const leaderOf = async (): Promise<number> => {
      for (const s of alive()) {
        const st = await call<MemberStatus>(s, '/status').catch(() => undefined);
        if (st?.state === 'leader') return st.id;
      }
      return 0;
    };
    let leader = 0;
    await until(async () => (leader = await leaderOf()) !== 0, 15_000, 'a leader');

    // Four clients, each sending to the live members in turn (followers forward).
    const acked: { value: string; index: number; sent: number }[] = [];
    let failed = 0;
    let seq = 0;
    for (let w = 0; w < 4; w++) {
      loops.push(
        (async () => {
          for (let turn = w; !stop && !procs.stopped; turn++) {
            const value = `v${seq++}`;
            const sent = Date.now();
            const members = alive();
            const target = members[turn % members.length]!;
            try {
              const r = await call<{ index: number }>(target, '/propose', { key: `k${seq % 16}`, value }, 5000);
              acked.push({ value, index: r.index, sent });
            } catch {
              failed++;
              await sleep(20);
            }
          }
        })(),
      );
    }

    await until(() => acked.length >= 50, 15_000, '50 acknowledged proposals');
    // Twice: kill -9 the leader, keep writing, restart it from its data directory.
    const resumed: string[] = [];
    for (let round = 0; round < 2; round++) {
      if (round > 0) await until(async () => (leader = await leaderOf()) !== 0, 10_000, 'a leader');
      const killedLeader = leader;
      const killedAt = Date.now();
      await procs.kill(killedLeader);
      down.add(killedLeader);
      const ackedBeforeKill = acked.length;
      // Writes resume: a proposal sent after the kill is acknowledged.
      await until(() => acked.some((a) => a.sent > killedAt), 10_000, 'a proposal sent after the kill to be acknowledged');
      resumed.push(`${Date.now() - killedAt} ms after killing leader ${killedLeader}`);
      await until(() => acked.length >= ackedBeforeKill + 50, 15_000, '50 more acknowledged proposals');

      await procs.start(specs[killedLeader - 1]!, { bootstrap: specs });
      down.delete(killedLeader);
      const ackedBeforeRestart = acked.length;
      await until(() => acked.length >= ackedBeforeRestart + 50, 15_000, '50 proposals after the restart');
      // The restarted member caught up: it applied something acknowledged after its restart.
      const last = acked[acked.length - 1]!;
      await until(
        async () => (await call<MemberStatus>(specs[killedLeader - 1]!, '/status')).applied >= last.index,
        10_000,
        `member ${killedLeader} to catch up after its restart`,
      );
    }
    stop = true;
    await Promise.all(loops);

    // Converge: all three applied the same log.
    let logs: LogEntry[][] = [];
    await until(
      async () => {
        logs = await Promise.all(specs.map((s) => call<{ log: LogEntry[] }>(s, '/log').then((r) => r.log)));
        return logs.every((l) => l.length === logs[0]!.length) && logs.every((l) => JSON.stringify(l) === JSON.stringify(logs[0]));
      },
      15_000,
      'the logs to converge',
    );
    const log = logs[0]!;
    const byIndex = new Map(log.map(([index, , value]) => [index, value]));
    for (const a of acked) expect(byIndex.get(a.index), `acknowledged ${a.value} at ${a.index}`).toBe(a.value);
    // In the same order everywhere: indexes strictly increase, and each value appears once.
    for (let i = 1; i < log.length; i++) expect(log[i]![0]).toBeGreaterThan(log[i - 1]![0]);
    expect(new Set(log.map((e) => e[2])).size).toBe(log.length);

    // Linearizable reads on every member see at least every acknowledged write.
    const lastAcked = Math.max(...acked.map((a) => a.index));
    for (const sp of specs) expect((await call<{ index: number }>(sp, '/read')).index).toBeGreaterThanOrEqual(lastAcked);

    // Every member is back in the group, following the same leader.
    const statuses = await Promise.all(specs.map((s) => call<MemberStatus>(s, '/status')));
    expect(new Set(statuses.map((st) => st.leader)).size).toBe(1);
    expect(statuses[0]!.leader).not.toBe(0);
    for (const st of statuses) expect(st.confState.voters.sort()).toEqual([1, 2, 3]);
    console.log(
      `failover: ${acked.length} acknowledged, ${failed} failed or unknown, ${log.length} applied; ` +
        `writes resumed ${resumed.join(', ')}`,
    );
  } finally {
    stop = true;
    await Promise.all(loops).catch(() => undefined);
    await procs.stopAll();
  }
});
