// etcdserverpb.Cluster: membership is Raft's configuration; adding, removing and promoting
// members are configuration changes through the log. Names and client URLs come from the
// attributes each member publishes when it starts, so a member added but not yet started
// is listed without a name, as etcd lists it.
import type { ClusterHandlers } from '@keel/protos/etcdserverpb/Cluster';
import type { Member } from '@keel/protos/etcdserverpb/Member';
import { RaftNodeError } from '@keel/raft-node';
import { StoreError, fromRaft } from '../errors';
import { hostPort, memberId } from '../members';
import type { StoreNode } from '../store-node';
import { unary } from './unary';

export function memberList(node: StoreNode): Member[] {
  const status = node.status();
  const out: Member[] = [];
  for (const [id, address] of status.members) {
    const attrs = node.attributes.get(id);
    out.push({
      ID: String(id),
      name: attrs?.name ?? '',
      peerURLs: [`http://${address}`],
      clientURLs: attrs?.clientUrls ?? [],
      isLearner: status.confState.learners.includes(id),
    });
  }
  return out.sort((a, b) => Number(a.ID) - Number(b.ID));
}

async function change<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof RaftNodeError ? fromRaft(err) : err;
  }
}

export function clusterService(node: StoreNode, token: string): ClusterHandlers {
  const isMember = (id: number) => node.status().members.has(id);
  return {
    MemberList: unary(async () => {
      await node.linearize();
      return { header: node.header(), members: memberList(node) };
    }),
    MemberAdd: unary(async (req) => {
      const url = req.peerURLs[0];
      if (!url || !/^https?:\/\/[^:/\s]+:\d+\/?$/.test(url)) throw new StoreError('Invalid', 'etcdserver: invalid peer URL');
      const id = memberId(url, token);
      if (isMember(id)) throw new StoreError('MemberExists');
      const address = hostPort(url);
      await change(() => (req.isLearner ? node.raft().addLearner(id, address) : node.raft().addVoter(id, address)));
      const member: Member = { ID: String(id), name: '', peerURLs: [url], clientURLs: [], isLearner: req.isLearner };
      return { header: node.header(), member, members: memberList(node) };
    }),
    MemberRemove: unary(async (req) => {
      const id = Number(req.ID);
      if (!isMember(id)) throw new StoreError('MemberNotFound');
      await change(() => node.raft().removeMember(id));
      return { header: node.header(), members: memberList(node) };
    }),
    MemberPromote: unary(async (req) => {
      const id = Number(req.ID);
      if (!isMember(id)) throw new StoreError('MemberNotFound');
      if (!node.status().confState.learners.includes(id)) throw new StoreError('NotLearner');
      await change(() => node.raft().promote(id));
      return { header: node.header(), members: memberList(node) };
    }),
    MemberUpdate: unary(async () => {
      throw new StoreError('Unimplemented', 'etcdserver: MemberUpdate is not implemented by keel-store (peer URLs are fixed at add)');
    }),
  };
}
