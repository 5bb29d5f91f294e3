// etcdserverpb.KV: reads are served from this member's MVCC state, after a ReadIndex round
// unless the client asked for a serializable read; every write is a proposal, answered
// with the result of applying its own log entry here.
import type { KVHandlers } from '@keel/protos/etcdserverpb/KV';
import { fromEtcd, int, toEtcd } from '@keel/mvcc';
import type { StoreNode } from '../store-node';
import { unary } from './unary';

export function kvService(node: StoreNode): KVHandlers {
  const header = (revision: number) => node.header(revision);
  return {
    Range: unary(async (req) => {
      const request = fromEtcd.rangeRequest(req);
      if (!req.serializable) await node.linearize();
      return toEtcd.rangeResponse(await node.mvcc.range(request), header);
    }),
    Put: unary(async (req) => {
      const result = await node.propose({ type: 'put', request: fromEtcd.putRequest(req) });
      return toEtcd.putResponse(result, header);
    }),
    DeleteRange: unary(async (req) => {
      const result = await node.propose({ type: 'deleteRange', request: fromEtcd.deleteRangeRequest(req) });
      return toEtcd.deleteRangeResponse(result, header);
    }),
    Txn: unary(async (req) => {
      const result = await node.propose({ type: 'txn', request: fromEtcd.txnRequest(req) });
      return toEtcd.txnResponse(result, header);
    }),
    Compact: unary(async (req) => {
      const result = await node.propose({ type: 'compact', revision: int(req.revision, 'revision'), physical: req.physical });
      return { header: header(result.revision) };
    }),
  };
}
