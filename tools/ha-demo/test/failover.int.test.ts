// The failover core of the HA demo, for CI: three control-plane hosts (no workers) from the
// built `keel up --ha`, one client writing through every apiserver while the store
// leader's host is killed whole. A new leader must be elected, writes must resume, no
// acknowledged write may be lost (through the API and on every member's own data), and the
// host must rejoin and catch up. Own prefix and subnet (keel-hat, 10.241.1.0/24), so it
// never meets the demo's cluster. No timing bar: figures are printed, never asserted.
import { hostExists, linkExists } from '@keel/hosts';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, readClusterFile, runKeel, snapshotBundles, type ClusterFile, type KeelCommand } from '../src/cluster';
import { failoverProblems, formatResult, runFailover, type FailoverResult } from '../src/failover';

const repo = resolve(import.meta.dirname, '../../..');
const DIR = join(repo, 'tmp', 'keel-hat-failover');
const PREFIX = 'keel-hat';

describe('HA failover: the store leader host killed while writing', () => {
  let keel: KeelCommand;
  let file: ClusterFile;
  let result: FailoverResult;

  beforeAll(async () => {
    // grpc-js names an apiserver's IP as TLS server name; Node's warning about it is noise here.
    (process as { noDeprecation?: boolean }).noDeprecation = true;
    if (hostExists(`${PREFIX}-cp1`)) await runKeel(snapshotBundles(repo, 'keel-hat-failover'), ['down', '--ha', '--dir', DIR]).catch(() => undefined);
    rmSync(DIR, { recursive: true, force: true });
    keel = snapshotBundles(repo, 'keel-hat-failover');
    await runKeel(keel, ['up', '--ha', '--dir', DIR, '--workers', '0', '--ha-prefix', PREFIX, '--ha-subnet', '10.241.1.0/24', '--no-sample'], 120_000);
    file = readClusterFile(DIR);
  }, 150_000);

  afterAll(async () => {
    if (keel && existsSync(join(DIR, 'ha.json'))) console.log(await runKeel(keel, ['down', '--ha', '--dir', DIR]).catch((e: Error) => e.message));
    rmSync(join(repo, 'tmp', 'keel-hat-failover-dist'), { recursive: true, force: true });
  }, 60_000);

  it('elects a new leader, resumes writes, loses no acknowledged write, and the host catches up', async () => {
    const client = adminClient(file);
    try {
      result = await runFailover({ file, client, keel, namespace: 'ha-test', beforeMs: 2000, afterMs: 1500, afterRejoinMs: 1000 });
    } finally {
      client.close();
    }
    console.log(formatResult(result));
    expect(result.newLeader).toBeDefined();
    expect(result.newLeader!.host).not.toBe(result.killedHost);
    expect(result.newLeader!.term).toBeGreaterThan(result.oldLeader.term);
    expect(result.figures.writesResumedMs).toBeDefined();
    expect(result.writes.acked).toBeGreaterThan(10);
    expect(result.lost).toEqual([]);
    expect(Object.values(result.missingOnMember)).toEqual([0, 0, 0]);
    expect(result.caughtUp?.caughtUpMs).toBeDefined();
    expect(failoverProblems(result)).toEqual([]);
  }, 150_000);

  it('keel status --ha shows every member answering with one leader, and keel down removes every host', async () => {
    const status = await runKeel(keel, ['status', '--dir', DIR]);
    expect(status).toMatch(/store: 3 members, 3 answering; leader keel-hat-cp\d \(term \d+\)/);
    await runKeel(keel, ['down', '--ha', '--dir', DIR]);
    for (const h of file.layout.controlPlanes) expect(hostExists(h.name)).toBe(false);
    expect(await linkExists(`${PREFIX}0`)).toBe(false);
    expect(existsSync(DIR)).toBe(false);
  }, 90_000);
});
