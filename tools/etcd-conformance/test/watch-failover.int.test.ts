// A watch over a three-member etcd keeps every event, once and in order, while the
// member it is connected to is killed: the stream moves to another member and resumes
// from the next revision it needs (watchFailoverSuite, which keel-store's tests run too).
import { startEtcdCluster } from '@keel/tools-etcd';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFailoverSuite } from '../src/watch-failover';

watchFailoverSuite(async () => {
  const work = mkdtempSync(join(tmpdir(), 'keel-etcd-failover-'));
  const cluster = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 3 }).catch((err: unknown) => {
    rmSync(work, { recursive: true, force: true });
    throw err;
  });
  return {
    endpoints: cluster.endpoints,
    kill: (member) => cluster.killMember(member),
    stop: async () => {
      await cluster.stop({ removeData: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
});
