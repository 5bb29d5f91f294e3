// etcdserverpb.Maintenance: Status and Snapshot as etcd serves them; Defragment compacts
// LevelDB, HashKV hashes MVCC records, MoveLeader transfers leadership; there are no
// alarms (no space quota yet), and Hash (of the whole bbolt file in etcd) has no
// equivalent here, so it answers Unimplemented.
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { int } from '@keel/mvcc';
import type { MaintenanceHandlers } from '@keel/protos/etcdserverpb/Maintenance';
import { RaftNodeError } from '@keel/raft-node';
import { StoreError, fromRaft, toStatus } from '../errors';
import type { StoreNode } from '../store-node';
import { unary } from './unary';

/** What etcdctl and clients see as the server version: the etcd API level we serve. */
export const ETCD_VERSION = '3.4.0';

/**
 * The bytes of a snapshot as etcd clients save them. etcdctl checks what etcd sends: a
 * database of whole 512-byte pages followed by the SHA-256 of it. So the MVCC snapshot
 * goes in a frame — its length (8 bytes), the bytes, zero padding to a 512-byte multiple —
 * and the frame's SHA-256 follows.
 */
export function snapshotFile(mvccSnapshot: Buffer): Buffer {
  const framed = 8 + mvccSnapshot.length;
  const frame = Buffer.alloc(Math.ceil(framed / 512) * 512);
  frame.writeBigUInt64BE(BigInt(mvccSnapshot.length), 0);
  mvccSnapshot.copy(frame, 8);
  return Buffer.concat([frame, createHash('sha256').update(frame).digest()]);
}

/** The MVCC snapshot inside a saved snapshot file, after checking its SHA-256. */
export function readSnapshotFile(file: Buffer): Buffer {
  const frame = file.subarray(0, file.length - 32);
  if (file.length < 40 || frame.length % 512 !== 0 || !createHash('sha256').update(frame).digest().equals(file.subarray(frame.length))) {
    throw new Error('not a keel-store snapshot file (bad size or SHA-256)');
  }
  const length = Number(frame.readBigUInt64BE(0));
  if (8 + length > frame.length) throw new Error('keel-store snapshot file: length past the end');
  return frame.subarray(8, 8 + length);
}

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
        const blob = snapshotFile(Buffer.concat(chunks));
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
