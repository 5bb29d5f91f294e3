import { describe, expect, it } from 'vitest';
import { clusterId, hostPort, memberId, parseInitialCluster } from './members';

describe('member identities', () => {
  it('derive a member ID from the peer URL and token alone, so a joining member computes what MemberAdd gave it', () => {
    const id = memberId('http://127.0.0.1:2380', 'etcd-cluster');
    expect(memberId('http://127.0.0.1:2380/', 'etcd-cluster')).toBe(id);
    expect(memberId('http://127.0.0.1:2381', 'etcd-cluster')).not.toBe(id);
    expect(memberId('http://127.0.0.1:2380', 'other')).not.toBe(id);
    expect(Number.isSafeInteger(id) && id > 0).toBe(true);
  });

  it('derive the cluster ID from the founding members, in any order', () => {
    expect(clusterId([3, 1, 2], 't')).toBe(clusterId([1, 2, 3], 't'));
    expect(clusterId([1, 2], 't')).not.toBe(clusterId([1, 2, 3], 't'));
  });

  it('parse --initial-cluster as etcd writes it, and name what is wrong', () => {
    expect([...parseInitialCluster('a=http://127.0.0.1:1,b=http://127.0.0.1:2/')]).toEqual([
      ['a', 'http://127.0.0.1:1'],
      ['b', 'http://127.0.0.1:2'],
    ]);
    expect(() => parseInitialCluster('a')).toThrow(/want name=url/);
    expect(() => parseInitialCluster('a=127.0.0.1:1')).toThrow(/want name=http/);
    expect(() => parseInitialCluster('a=http://h:1,a=http://h:2')).toThrow(/twice/);
    expect(() => parseInitialCluster('')).toThrow(/empty/);
    expect(hostPort('http://127.0.0.1:2380/')).toBe('127.0.0.1:2380');
  });
});
