// etcdserverpb.Maintenance: Status and Snapshot as etcd serves them; Defragment compacts
// LevelDB, HashKV hashes MVCC records, MoveLeader transfers leadership; there are no
// alarms (no space quota yet), and Hash (of the whole bbolt file in etcd) has no
// equivalent here, so it answers Unimplemented.
import * as grpc from '@grpc/grpc-js';
import { int } from '@keel/mvcc';
import type { MaintenanceHandlers } from '@keel/protos/etcdserverpb/Maintenance';
import { RaftNodeError } from '@keel/raft-node';
import { StoreError, fromRaft, toStatus } from '../errors';
import type { StoreNode } from '../store-node';
import { unary } from './unary';

/** What etcdctl and clients see as the server version: the etcd API level we serve. */
export const ETCD_VERSION = '3.4.0';

export function maintenanceService(node: StoreNode): MaintenanceHandlers {
  return {
    Status: unary(async () => {
      const status = node.status();
      const dbSize = await node.mvcc.dbSize();
      return {
        header: node.header(),
        version: ETCD_VERSION,
        dbSize,
        dbSizeInUse: dbSize,
        leader: String(status.leader),
        raftIndex: status.commit,
        raftTerm: status.term,
        raftAppliedIndex: status.applied,
        errors: [],
        isLearner: status.confState.learners.includes(node.id),
      };
    }),
    Alarm: unary(async () => ({ header: node.header(), alarms: [] })),
    Defragment: unary(async () => {
      await node.mvcc.defragment();
      return { header: node.header() };
    }),
    Hash: unary(async () => {
      throw new StoreError('Unimplemented', 'etcdserver: Hash is not implemented by keel-store; use HashKV');
    }),
    HashKV: unary(async (req) => {
      const result = await node.mvcc.hashKV(int(req.revision, 'revision'));
      return { header: node.header(result.revision), hash: result.hash >>> 0, compact_revision: result.compactRevision };
    }),
    MoveLeader: unary(async (req) => {
      if (node.leaderId !== node.id) throw new StoreError('Invalid', 'etcdserver: not leader');
      try {
        await node.raft().transferLeadership(Number(req.targetID));
      } catch (err) {
        throw err instanceof RaftNodeError ? fromRaft(err) : err;
      }
      return { header: node.header() };
    }),
    Snapshot: (call) => {
      void (async () => {
        const snap = await node.mvcc.snapshot();
        const header = node.header(snap.revision);
        const chunks: Buffer[] = [];
        for await (const chunk of snap.chunks) chunks.push(chunk);
        const blob = Buffer.concat(chunks);
        const size = 64 * 1024;
        for (let off = 0; off < blob.length || off === 0; off += size) {
          const piece = blob.subarray(off, off + size);
          const ok = call.write({ header, remaining_bytes: Math.max(0, blob.length - off - piece.length), blob: piece });
          if (!ok) await new Promise((r) => call.once('drain', r));
          if (blob.length === 0) break;
        }
        call.end();
      })().catch((err: unknown) => {
        const status = toStatus(err);
        call.emit('error', { code: status.code ?? grpc.status.INTERNAL, details: status.details ?? '' });
      });
    },
  };
}
