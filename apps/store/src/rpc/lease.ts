// etcdserverpb.Lease: grants and revokes are proposals; keep-alives renew the lease on the
// leader (directly there, through the log from a follower), because only the leader's
// clock decides expiry; so a follower asks the leader for TimeToLive. Leases reads this
// member's state after a ReadIndex (grants and revokes are in the log).
import * as grpc from '@grpc/grpc-js';
import { MvccError, leaseId, int } from '@keel/mvcc';
import type { LeaseHandlers } from '@keel/protos/etcdserverpb/Lease';
import type { LeaseKeepAliveRequest__Output } from '@keel/protos/etcdserverpb/LeaseKeepAliveRequest';
import { toStatus } from '../errors';
import type { LeaderForwarder } from './forward';
import type { StoreNode } from '../store-node';
import { unary } from './unary';

export function leaseService(node: StoreNode, forwarder: LeaderForwarder): LeaseHandlers {
  return {
    LeaseGrant: unary(async (req) => {
      const result = await node.propose({ type: 'leaseGrant', request: { ttl: int(req.TTL, 'TTL'), id: leaseId(req.ID) } });
      return { header: node.header(result.revision), ID: result.id.toString(), TTL: result.ttl, error: '' };
    }),
    LeaseRevoke: unary(async (req) => {
      const result = await node.propose({ type: 'leaseRevoke', id: leaseId(req.ID) });
      return { header: node.header(result.revision) };
    }),
    LeaseTimeToLive: unary(async (req) => {
      const fromLeader = forwarder.timeToLive({ ID: req.ID, keys: req.keys });
      if (fromLeader) return fromLeader;
      await node.linearize();
      const ttl = node.mvcc.leaseTimeToLive(leaseId(req.ID), req.keys);
      return { header: node.header(), ID: ttl.id.toString(), TTL: ttl.ttl, grantedTTL: ttl.grantedTtl, keys: ttl.keys };
    }),
    LeaseLeases: unary(async () => {
      await node.linearize();
      return { header: node.header(), leases: node.mvcc.leases().map((id) => ({ ID: id.toString() })) };
    }),
    LeaseKeepAlive: (call) => {
      let ended = false;
      const finish = () => {
        if (!ended) {
          ended = true;
          call.end();
        }
      };
      call.on('data', (req: LeaseKeepAliveRequest__Output) => {
        const id = leaseId(req.ID);
        node.keepAlive(id).then(
          (ttl) => {
            if (!ended) call.write({ header: node.header(), ID: id.toString(), TTL: ttl });
          },
          (err: unknown) => {
            if (ended) return;
            // etcd answers a keep-alive for an unknown lease with TTL 0, not an error.
            if (MvccError.is(err, 'LeaseNotFound')) call.write({ header: node.header(), ID: id.toString(), TTL: 0 });
            else {
              ended = true;
              const status = toStatus(err);
              call.emit('error', { code: status.code ?? grpc.status.INTERNAL, details: status.details ?? '' });
            }
          },
        );
      });
      call.on('end', finish);
      call.on('cancelled', () => (ended = true));
      call.on('error', () => (ended = true));
    },
  };
}
