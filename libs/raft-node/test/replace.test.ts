// A member loses its data directory and is replaced: remove it from the group, start a
// new member with an empty directory, add it as a learner (the log has been compacted,
// so it catches up by snapshot), promote it, and check that it holds the same log.

import { rm } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { ControlError, Procs, call, until, type LogEntry, type MemberSpec, type MemberStatus } from './procs';

// Also after a timeout, when the test's own finally may never run.
let current: Procs | undefined;
afterEach(async () => {
  await current?.stopAll();
  current = undefined;
});

it('replaces a member whose data directory was removed, through learner and promotion', async () => {
  const procs = (current = await Procs.create());
  try {
    const opts = { snapshotEvery: 50, keepEntries: 10 };
    const specs: MemberSpec[] = [];
    for (const id of [1, 2, 3]) specs.push(await procs.spec(id));
    await Promise.all(specs.map((s) => procs.start(s, { ...opts, bootstrap: specs })));

    let leader: MemberSpec | undefined;
    const findLeader = async (among: MemberSpec[]) => {
      for (const s of among) {
        const st = await call<MemberStatus>(s, '/status').catch(() => undefined);
        if (st?.state === 'leader') return s;
      }
      return undefined;
    };
    await until(async () => (leader = await findLeader(specs)) !== undefined, 15_000, 'a leader');

    // On a loaded machine leadership may move mid-test: find the leader again and retry
    // what was refused. A retried 'outcome-unknown' may apply twice; those are counted.
    let retriedUnknown = 0;
    const retrying = async <T>(what: string, fn: (leader: MemberSpec) => Promise<T>, unknownIsRetryable = false): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn(leader!);
        } catch (e) {
          const code = e instanceof ControlError ? e.code : 'unreachable';
          const retryable = ['dropped', 'proposal-lost', 'unreachable'].includes(code) || (unknownIsRetryable && code === 'outcome-unknown');
          if (!retryable || attempt >= 20) throw new Error(`${what}: ${code}: ${(e as Error).message}`, { cause: e });
          if (code === 'outcome-unknown') retriedUnknown++;
          await new Promise((r) => setTimeout(r, 200));
          leader = (await findLeader([...procs.members.values()].filter((m) => !m.exited).map((m) => m.spec))) ?? leader;
        }
      }
    };
    const expected: string[] = [];
    const propose = async (n: number, prefix: string) => {
      // Sixteen at a time, to the leader.
      for (let i = 0; i < n; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, n - i) }, (_, j) => {
            const value = `${prefix}${i + j}`;
            expected.push(value);
            return retrying(`propose ${value}`, (l) => call(l, '/propose', { key: `${prefix}${(i + j) % 7}`, value }), true);
          }),
        );
      }
    };
    await propose(200, 'a');

    // Lose a follower and its data.
    const lost = specs.find((s) => s.id !== leader!.id)!;
    await procs.kill(lost.id);
    await rm(lost.dir, { recursive: true, force: true });
    const survivors = specs.filter((s) => s !== lost);
    await retrying('remove', (l) => call(l, '/members', { op: 'remove', id: lost.id }));
    await propose(60, 'b');
    const leaderStatus = await call<MemberStatus>(leader!, '/status');
    expect(leaderStatus.firstIndex).toBeGreaterThan(1);
    expect(leaderStatus.confState.voters.sort()).toEqual(survivors.map((s) => s.id).sort());

    // The replacement: a new id, an empty directory, the current members as peers.
    const fresh = await procs.spec(4);
    await procs.start(fresh, { ...opts, peers: survivors });
    await retrying('add learner', (l) => call(l, '/members', { op: 'addLearner', id: 4, address: `127.0.0.1:${fresh.raftPort}` }));
    await until(
      async () => (await call<MemberStatus>(fresh, '/status')).applied >= (await call<MemberStatus>(leader!, '/status')).applied,
      20_000,
      'the learner to catch up',
    );
    const caughtUp = await call<MemberStatus>(fresh, '/status');
    // Caught up by snapshot: its log starts after the leader's compaction point.
    expect(caughtUp.snapshotIndex).toBeGreaterThan(0);
    expect(caughtUp.confState.learners).toEqual([4]);

    await retrying('promote', (l) => call(l, '/members', { op: 'promote', id: 4 }));
    await propose(40, 'c');
    const group = [...survivors, fresh];
    let logs: LogEntry[][] = [];
    await until(
      async () => {
        logs = await Promise.all(group.map((s) => call<{ log: LogEntry[] }>(s, '/log').then((r) => r.log)));
        return logs.every((l) => JSON.stringify(l) === JSON.stringify(logs[0]));
      },
      15_000,
      'the logs to converge',
    );
    const values = logs[0]!.map((e) => e[2]);
    expect(new Set(values)).toEqual(new Set(expected));
    expect(values.length).toBeGreaterThanOrEqual(300);
    expect(values.length).toBeLessThanOrEqual(300 + retriedUnknown);
    const st = await call<MemberStatus>(fresh, '/status');
    expect(st.confState.voters.sort()).toEqual(group.map((s) => s.id).sort());
    expect(st.confState.learners).toEqual([]);

    // The group still commits with the new member as one of the quorum: stop the other follower.
    const other = survivors.find((s) => s.id !== leader!.id)!;
    await procs.kill(other.id);
    await retrying('last propose', (l) => call(l, '/propose', { key: 'z', value: 'with the new member' }));
  } finally {
    await procs.stopAll();
  }
});
