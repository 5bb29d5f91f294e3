// Debian's etcdctl (3.4, ETCDCTL_API=3) against a three-member keel-store. The commands
// whose output depends only on the data (put, get in its forms, del, txn, compaction,
// watch from a past revision) run against a fresh three-member etcd 3.4 too, in the same
// order, and must print exactly the same; the rest (leases, members, status, snapshot)
// are checked for what etcdctl prints.
import { startEtcdCluster, type EtcdCluster } from '@keel/tools-etcd';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStoreCluster, type StoreCluster } from '@keel/tools-store';

let keel: StoreCluster | undefined;
let etcd: EtcdCluster | undefined;
const work = mkdtempSync(join(tmpdir(), 'keel-store-etcdctl-'));
const watchers: ChildProcess[] = [];

beforeAll(async () => {
  [keel, etcd] = await Promise.all([startStoreCluster({ members: 3 }), startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 3 })]);
}, 60_000);

afterAll(async () => {
  for (const w of watchers) {
    if (w.exitCode !== null || w.signalCode !== null || !w.pid) continue;
    try {
      process.kill(w.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    await keel?.stop();
  } finally {
    await etcd?.stop({ removeData: true });
    rmSync(work, { recursive: true, force: true });
  }
});

function etcdctl(endpoints: string[], args: string[], input?: string): string {
  return execFileSync('etcdctl', [`--endpoints=${endpoints.join(',')}`, '--command-timeout=10s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs the same command against both; returns keel-store's output after checking etcd printed the same. */
function both(args: string[], input?: string): string {
  const fromKeel = etcdctl(keel!.endpoints, args, input);
  const fromEtcd = etcdctl(etcd!.endpoints, args, input);
  expect(fromKeel, `etcdctl ${args.join(' ')}`).toBe(fromEtcd);
  return fromKeel;
}

function watch(endpoints: string[], args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('etcdctl', [`--endpoints=${endpoints.join(',')}`, 'watch', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  watchers.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('etcdctl 3.4 against keel-store (3 members), beside etcd 3.4', () => {
  it('put, get (prefix, limit, rev, keys-only, sort-by, print-value-only), del: same output as etcd', () => {
    expect(both(['put', '/ctl/a', '1'])).toBe('OK\n');
    both(['put', '/ctl/b', '2']);
    both(['put', '/ctl/c', '3']);
    both(['put', '/ctl/a', '4']);
    expect(both(['get', '/ctl/a'])).toBe('/ctl/a\n4\n');
    expect(both(['get', '--prefix', '/ctl/'])).toBe('/ctl/a\n4\n/ctl/b\n2\n/ctl/c\n3\n');
    both(['get', '--prefix', '--limit=2', '/ctl/']);
    both(['get', '--prefix', '--keys-only', '/ctl/']);
    both(['get', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '/ctl/']);
    both(['get', '--print-value-only', '/ctl/b']);
    both(['get', '--rev=2', '/ctl/a']);
    both(['get', '/ctl/a', '/ctl/c']);
    expect(both(['del', '/ctl/c'])).toBe('1\n');
    expect(both(['del', '/ctl/none'])).toBe('0\n');
    both(['del', '--prev-kv', '--prefix', '/ctl/b']);
    expect(both(['get', '/ctl/c'])).toBe('');
  });

  it('txn from stdin (interactive form), both branches: same output as etcd', () => {
    both(['put', '/txn/k', 'v1']);
    const script = (value: string) => `value("/txn/k") = "${value}"\n\nput /txn/k v2\nput /txn/other x\n\nget /txn/k\n\n`;
    expect(both(['txn'], script('v1'))).toBe('SUCCESS\n\nOK\n\nOK\n');
    expect(both(['txn'], script('v1'))).toBe('FAILURE\n\n/txn/k\nv2\n');
    both(['txn', '-i'], script('v2'));
  });

  it('compaction, then a read at a compacted revision fails as on etcd', () => {
    both(['put', '/cmp/k', '1']);
    both(['put', '/cmp/k', '2']);
    const rev = Number(/"revision":(\d+)/.exec(etcdctl(keel!.endpoints, ['get', '/cmp/k', '-w', 'json']))![1]);
    expect(both(['compaction', '--physical', String(rev)])).toBe(`compacted revision ${rev}\n`);
    const err = (endpoints: string[]) => {
      try {
        etcdctl(endpoints, ['get', `--rev=${rev - 1}`, '/cmp/k']);
        return 'no error';
      } catch (e) {
        return String((e as { stderr: string }).stderr).split('\n').filter((l) => l.startsWith('Error'))[0];
      }
    };
    expect(err(keel!.endpoints)).toBe('Error: etcdserver: mvcc: required revision has been compacted');
    expect(err(etcd!.endpoints)).toBe(err(keel!.endpoints));
  });

  it('watch in the background (live, and from a past revision), stopped by its PID', async () => {
    const from = Number(/"revision":(\d+)/.exec(etcdctl(keel!.endpoints, ['put', '/w/a', '1', '-w', 'json']))![1]);
    etcdctl(keel!.endpoints, ['put', '/w/b', '2']);
    const live = watch(keel!.endpoints, ['--prefix', '/w/']);
    const past = watch(keel!.endpoints, ['--prefix', `--rev=${from}`, '/w/']);
    await until(() => past.output().includes('/w/b'));
    // The live watch is set up once etcdctl is connected; keep writing until it sees one.
    await until(() => {
      etcdctl(keel!.endpoints, ['put', '/w/c', '3']);
      return live.output().includes('/w/c');
    });
    etcdctl(keel!.endpoints, ['del', '/w/a']);
    await until(() => live.output().includes('DELETE'));
    expect(past.output().startsWith('PUT\n/w/a\n1\nPUT\n/w/b\n2\nPUT\n/w/c\n3\n')).toBe(true);
    expect(live.output()).toContain('DELETE\n/w/a\n');
    for (const w of [live, past]) {
      const gone = new Promise((r) => w.child.once('exit', r));
      process.kill(w.child.pid!, 'SIGTERM');
      await gone;
    }
  });

  it('lease grant, keep-alive --once, timetolive --keys, list, revoke', () => {
    const granted = etcdctl(keel!.endpoints, ['lease', 'grant', '30']);
    const id = /^lease ([0-9a-f]+) granted with TTL\(30s\)$/m.exec(granted)![1]!;
    etcdctl(keel!.endpoints, ['put', '--lease', id, '/lease/k', 'v']);
    expect(etcdctl(keel!.endpoints, ['lease', 'keep-alive', '--once', id])).toMatch(new RegExp(`^lease ${id} keepalived with TTL\\(30\\)`));
    expect(etcdctl(keel!.endpoints, ['lease', 'timetolive', '--keys', id])).toMatch(
      new RegExp(`^lease ${id} granted with TTL\\(30s\\), remaining\\(\\d+s\\), attached keys\\(\\[/lease/k\\]\\)`),
    );
    expect(etcdctl(keel!.endpoints, ['lease', 'list'])).toContain(id);
    expect(etcdctl(keel!.endpoints, ['lease', 'revoke', id])).toBe(`lease ${id} revoked\n`);
    expect(etcdctl(keel!.endpoints, ['get', '/lease/k'])).toBe('');
    expect(etcdctl(keel!.endpoints, ['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`);
  });

  it('member list, endpoint status and endpoint health', () => {
    const list = etcdctl(keel!.endpoints, ['member', 'list']).trim().split('\n');
    expect(list).toHaveLength(3);
    for (const m of keel!.members) {
      expect(list.some((l) => l.includes(`started, ${m.name}, http://127.0.0.1:${m.peerPort}, http://${m.endpoint}, false`))).toBe(true);
    }
    const status = etcdctl(keel!.endpoints, ['endpoint', 'status']).trim().split('\n');
    expect(status).toHaveLength(3);
    // endpoint, ID, version, db size, is leader, is learner, term, index, applied, errors
    expect(status.filter((l) => l.split(', ')[4] === 'true')).toHaveLength(1);
    expect(status.every((l) => l.split(', ')[2] === '3.4.0')).toBe(true);
    // etcdctl prints health to stderr.
    const health = spawnSync('etcdctl', [`--endpoints=${keel!.endpoints.join(',')}`, 'endpoint', 'health'], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
    });
    expect(health.status).toBe(0);
    for (const ep of keel!.endpoints) expect(health.stderr).toMatch(new RegExp(`${ep} is healthy`));
  });

  it('snapshot save writes the store state to a file', () => {
    const file = join(work, 'keel-snapshot.db');
    const out = etcdctl([keel!.endpoints[0]!], ['snapshot', 'save', file]);
    expect(out).toContain(`Snapshot saved at ${file}`);
    expect(statSync(file).size).toBeGreaterThan(0);
  });

  it('member add (learner) and member remove', () => {
    const added = etcdctl(keel!.endpoints, ['member', 'add', 'extra', '--learner', '--peer-urls=http://127.0.0.1:1']);
    const id = /Member\s+([0-9a-f]+) added to cluster/.exec(added)![1]!;
    expect(etcdctl(keel!.endpoints, ['member', 'list'])).toMatch(new RegExp(`${id}, unstarted, , http://127.0.0.1:1, , true`));
    expect(etcdctl(keel!.endpoints, ['member', 'remove', id])).toMatch(new RegExp(`Member\\s+${id} removed from cluster`));
    expect(etcdctl(keel!.endpoints, ['member', 'list']).trim().split('\n')).toHaveLength(3);
  });
});
