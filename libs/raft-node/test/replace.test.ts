// A member loses its data directory and is replaced: remove it from the group, start a
// new member with an empty directory, add it as a learner (the log has been compacted,
// so it catches up by snapshot), promote it, and check that it holds the same log.

import { rm } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { Procs, call, until, type LogEntry, type MemberSpec, type MemberStatus } from './procs';

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

    const propose = async (n: number, prefix: string) => {
      // Sixteen at a time, to the leader.
      for (let i = 0; i < n; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, n - i) }, (_, j) => call(leader!, '/propose', { key: `${prefix}${(i + j) % 7}`, value: `${prefix}${i + j}` })),
        );
      }
    };
    await propose(200, 'a');

    // Lose a follower and its data.
    const lost = specs.find((s) => s.id !== leader!.id)!;
    await procs.kill(lost.id);
    await rm(lost.dir, { recursive: true, force: true });
    const survivors = specs.filter((s) => s !== lost);
    await call(leader!, '/members', { op: 'remove', id: lost.id });
    await propose(60, 'b');
    const leaderStatus = await call<MemberStatus>(leader!, '/status');
    expect(leaderStatus.firstIndex).toBeGreaterThan(1);
    expect(leaderStatus.confState.voters.sort()).toEqual(survivors.map((s) => s.id).sort());

    // The replacement: a new id, an empty directory, the current members as peers.
    const fresh = await procs.spec(4);
    await procs.start(fresh, { ...opts, peers: survivors });
    await call(leader!, '/members', { op: 'addLearner', id: 4, address: `127.0.0.1:${fresh.raftPort}` });
    await until(
      async () => (await call<MemberStatus>(fresh, '/status')).applied >= (await call<MemberStatus>(leader!, '/status')).applied,
      20_000,
      'the learner to catch up',
    );
    const caughtUp = await call<MemberStatus>(fresh, '/status');
    // Caught up by snapshot: its log starts after the leader's compaction point.
    expect(caughtUp.snapshotIndex).toBeGreaterThan(0);
    expect(caughtUp.confState.learners).toEqual([4]);

    await call(leader!, '/members', { op: 'promote', id: 4 });
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
    expect(logs[0]!.length).toBe(300);
    const st = await call<MemberStatus>(fresh, '/status');
    expect(st.confState.voters.sort()).toEqual(group.map((s) => s.id).sort());
    expect(st.confState.learners).toEqual([]);

    // The group still commits with the new member as one of the quorum: stop the other follower.
    const other = survivors.find((s) => s.id !== leader!.id)!;
    await procs.kill(other.id);
    await call(leader!, '/propose', { key: 'z', value: 'with the new member' });
  } finally {
    await procs.stopAll();
  }
});
