import { describe, expect, it } from 'vitest';
import { formatHaStatus, identityInLog, storeLeader, type HaStatus, type MemberStatus } from './status';

const members: MemberStatus[] = [
  { host: 'keel-ha-cp1', endpoint: '10.241.0.11:2379', memberId: '1', leaderId: '2', term: 3, revision: 40 },
  { host: 'keel-ha-cp2', endpoint: '10.241.0.12:2379', memberId: '2', leaderId: '2', term: 3, revision: 41 },
  { host: 'keel-ha-cp3', endpoint: '10.241.0.13:2379', error: 'connect ECONNREFUSED' },
];

describe('storeLeader', () => {
  it('is the member that reports itself as leader', () => {
    expect(storeLeader(members)).toEqual({ host: 'keel-ha-cp2', memberId: '2', term: 3 });
  });

  it('is nobody when the leader did not answer, even if followers still name it', () => {
    expect(storeLeader(members.filter((m) => m.host !== 'keel-ha-cp2'))).toBeUndefined();
  });
});

describe('identityInLog', () => {
  it("finds the replica's own identity from its start line, the last one after a restart", () => {
    const log = [
      '{"ts":"t","level":"info","msg":"serving","identity":"vm_a"}',
      '{"ts":"t","level":"info","msg":"leader","identity":"vm_other"}',
      'not json "identity"',
      '{"ts":"t","level":"info","msg":"starting","leaderElect":true,"identity":"vm_b"}',
    ].join('\n');
    expect(identityInLog(log)).toBe('vm_b');
    expect(identityInLog('{"msg":"leader","identity":"x"}')).toBeUndefined();
  });
});

describe('formatHaStatus', () => {
  it('shows members, leader, term and revision; components with health and Lease holders; nodes', () => {
    const s: HaStatus = {
      members,
      components: [
        { host: 'keel-ha-cp1', part: 'keel-scheduler', pid: 10, healthy: true, leader: true },
        { host: 'keel-ha-cp3', part: 'keel-scheduler', healthy: false, leader: false },
      ],
      leases: [{ part: 'keel-scheduler', holder: 'vm_a', host: 'keel-ha-cp1' }],
      nodes: [{ name: 'keel-ha-w1', ready: 'True', address: '10.241.0.21', podCidr: '10.247.1.0/24' }],
    };
    const text = formatHaStatus(s);
    expect(text).toContain('store: 3 members, 2 answering; leader keel-ha-cp2 (term 3), revision 41');
    expect(text).toMatch(/keel-ha-cp3\s+10\.241\.0\.13:2379\s+unreachable: connect ECONNREFUSED/);
    expect(text).toMatch(/keel-ha-cp1\s+keel-scheduler\s+10\s+ok\s+yes/);
    expect(text).toMatch(/keel-ha-cp3\s+keel-scheduler\s+-\s+down/);
    expect(text).toContain('lease kube-system/kube-scheduler: vm_a (keel-ha-cp1)');
    expect(text).toContain('nodes: 1, 1 ready');
  });

  it('says when there is no leader or nodes cannot be listed', () => {
    const text = formatHaStatus({ members: [members[0]!, members[2]!], components: [], leases: [], nodes: { error: 'UNAVAILABLE' } });
    expect(text).toContain('NO LEADER');
    expect(text).toContain('nodes: cannot list: UNAVAILABLE');
  });
});
