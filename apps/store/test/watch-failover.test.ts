// A watch over three keel-store members keeps every event, once and in order, while the
// member it is connected to is killed: the client's stream moves to another member and
// resumes from the next revision it needs (watchFailoverSuite from tools/etcd-conformance,
// which runs the same test against etcd).
import { watchFailoverSuite } from '@keel/tools-etcd-conformance';
import { startStoreCluster } from '@keel/tools-store';

watchFailoverSuite(() => startStoreCluster({ members: 3 }));
