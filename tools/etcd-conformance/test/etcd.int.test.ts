// The etcd v3 API suite against Debian's etcd 3.4, one member on loopback.
import { startEtcdCluster } from '@keel/tools-etcd';
import { etcdApiSuite } from '../src/api-suite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

etcdApiSuite('etcd 3.4', async () => {
  const work = mkdtempSync(join(tmpdir(), 'keel-etcd-client-test-'));
  const cluster = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
  return {
    endpoints: cluster.endpoints,
    stop: async () => {
      await cluster.stop({ removeData: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
});
