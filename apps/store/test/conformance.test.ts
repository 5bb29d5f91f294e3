// The etcd v3 API suite that Debian's etcd passes (tools/etcd-conformance), run against
// keel-store: one member, and three members (the client's channel prefers the first
// endpoint, which may be a follower, so forwarding and follower reads are covered too).
import { etcdApiSuite } from '@keel/tools-etcd-conformance';
import { startStoreCluster } from '@keel/tools-store';

for (const members of [1, 3]) {
  etcdApiSuite(`keel-store, ${members} member${members > 1 ? 's' : ''}`, async () => {
    const cluster = await startStoreCluster({ members });
    return { endpoints: cluster.endpoints, stop: () => cluster.stop() };
  });
}
