import { describe, expect, it } from 'vitest';
import { service, slice } from './fixtures';
import { cleanupScript, missingJumps, parseSave, planRestore } from './restore';
import { computeRules, JUMPS, type RuleConfig } from './rules';
import { endpointChain, serviceChain } from './names';

const config: RuleConfig = { nodeIps: ['192.168.77.1'], masqueradeOut: ['keel-cni0'] };
const services = [
  service('a', '10.96.0.1', [{ name: 'p', port: 80, targetPort: 8080 }]),
  service('b', '10.96.0.2', [{ name: 'p', port: 80, targetPort: 8080 }]),
];
const slicesWith = (bIps: string[]) => [slice('a', ['10.244.0.2', '10.244.0.3'], [{ name: 'p', port: 8080 }]), slice('b', bIps, [{ name: 'p', port: 8080 }])];
const svcA = serviceChain('default/a:p', 'TCP');
const svcB = serviceChain('default/b:p', 'TCP');
const sepB = (ip: string) => endpointChain('default/b:p', 'TCP', `${ip}:8080`);
const names = (refs: { table: string; chain: string }[]) => refs.map((r) => `${r.table} ${r.chain}`).sort();

describe('planRestore', () => {
  it('a full sync writes every chain, both tables, and nothing else', () => {
    const desired = computeRules(services, slicesWith(['10.244.0.4']), config).tables;
    const plan = planRestore({ desired });
    expect(plan.written.length).toBe(desired.nat.size + desired.filter.size);
    expect(plan.deleted).toEqual([]);
    const lines = plan.batches.join('').split('\n');
    expect(lines[0]).toBe('*filter');
    expect(lines).toContain('*nat');
    expect(lines.filter((l) => l === 'COMMIT')).toHaveLength(2);
    // In each table every chain is declared before any rule, so rules may jump forward.
    for (const block of plan.batches.join('').split('COMMIT')) {
      const rows = block.split('\n');
      const firstRule = rows.findIndex((l) => l.startsWith('-A '));
      if (firstRule >= 0) expect(rows.slice(firstRule).some((l) => l.startsWith(':'))).toBe(false);
    }
  });

  it('nothing changed: an empty batch', () => {
    const before = computeRules(services, slicesWith(['10.244.0.4']), config).tables;
    const after = computeRules(services, slicesWith(['10.244.0.4']), config).tables;
    expect(planRestore({ desired: after, applied: before })).toMatchObject({ batches: [], written: [], deleted: [] });
  });

  it('an endpoint added to one service rewrites only that service chain and the new endpoint chain', () => {
    const before = computeRules(services, slicesWith(['10.244.0.4']), config).tables;
    const after = computeRules(services, slicesWith(['10.244.0.4', '10.244.0.5']), config).tables;
    const plan = planRestore({ desired: after, applied: before });
    expect(names(plan.written)).toEqual([`nat ${sepB('10.244.0.5')}`, `nat ${svcB}`].sort());
    expect(plan.deleted).toEqual([]);
    expect(plan.batches.join('')).not.toContain(svcA);
    expect(plan.batches.join('')).not.toContain('KEEL-SERVICES');
    expect(plan.batches.join('')).not.toContain('*filter');
  });

  it('an endpoint removed: its chain is flushed and deleted after the service chain is rewritten', () => {
    const before = computeRules(services, slicesWith(['10.244.0.4', '10.244.0.5']), config).tables;
    const after = computeRules(services, slicesWith(['10.244.0.4']), config).tables;
    const plan = planRestore({ desired: after, applied: before });
    expect(names(plan.written)).toEqual([`nat ${svcB}`]);
    expect(names(plan.deleted)).toEqual([`nat ${sepB('10.244.0.5')}`]);
    expect(plan.batches.join('')).toBe(
      [
        '*nat',
        `:${svcB} - [0:0]`,
        `:${sepB('10.244.0.5')} - [0:0]`,
        ...after.nat.get(svcB)!,
        `-X ${sepB('10.244.0.5')}`,
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('the last endpoint gone: service and endpoint chains deleted, REJECT written in filter', () => {
    const before = computeRules(services, slicesWith(['10.244.0.4']), config).tables;
    const after = computeRules(services, slicesWith([]), config).tables;
    const plan = planRestore({ desired: after, applied: before });
    expect(names(plan.written)).toEqual(['filter KEEL-SERVICES', 'nat KEEL-SERVICES']);
    expect(names(plan.deleted)).toEqual([`nat ${sepB('10.244.0.4')}`, `nat ${svcB}`].sort());
    expect(plan.batches.join('')).toContain('has no endpoints');
  });

  it('a full sync deletes stale chains of ours found in the tables, never anyone else’s', () => {
    const desired = computeRules(services, slicesWith(['10.244.0.4']), config).tables;
    const existing = {
      nat: new Set(['PREROUTING', 'KEEL-SERVICES', 'KEEL-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SVC-AAAAAAAAAAAAAAAA', 'CNI-HOSTPORT-DNAT']),
      filter: new Set(['FORWARD', 'KEEL-SEP-BBBBBBBBBBBBBBBB', 'KEEL-KUBELET']),
    };
    const plan = planRestore({ desired, existing });
    expect(names(plan.deleted)).toEqual(['filter KEEL-SEP-BBBBBBBBBBBBBBBB', 'nat KEEL-SVC-AAAAAAAAAAAAAAAA']);
  });

  it('missing jumps are inserted first in their built-in chains', () => {
    const desired = computeRules([], [], config).tables;
    const save = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KEEL-SERVICES - [0:0]',
      '-A PREROUTING -m comment --comment "keel service portals" -j KEEL-SERVICES',
      'COMMIT',
      '*filter',
      ':INPUT ACCEPT [0:0]',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "keel service portals" -j KEEL-SERVICES',
      'COMMIT',
    ].join('\n');
    const missing = missingJumps(parseSave(save), JUMPS);
    expect(missing.map((j) => `${j.table} ${j.chain} ${j.target}`)).toEqual([
      'nat OUTPUT KEEL-SERVICES',
      'nat POSTROUTING KEEL-POSTROUTING',
      'filter OUTPUT KEEL-SERVICES',
      'filter INPUT KEEL-EXTERNAL-SERVICES',
      'filter FORWARD KEEL-EXTERNAL-SERVICES',
      'filter INPUT KEEL-FIREWALL',
    ]);
    const plan = planRestore({ desired, existing: { nat: new Set(), filter: new Set() }, missingJumps: missing });
    expect(plan.batches.join('')).toContain('-I OUTPUT 1 -m comment --comment "keel service portals" -j KEEL-SERVICES');
    expect(plan.batches.join('')).toContain('-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment "keel external services" -j KEEL-EXTERNAL-SERVICES');
  });
});

/** Applies batches in order to an in-memory table set, checking after each that every jump has a target. */
function applyChecked(batches: string[], tables: Record<string, Map<string, string[]>>): void {
  for (const batch of batches) {
    let table = tables['nat']!;
    for (const line of batch.split('\n')) {
      const chain = line.split(' ')[1] ?? '';
      if (line.startsWith('*')) table = tables[line.slice(1)]!;
      else if (line.startsWith(':')) table.set(line.slice(1).split(' ')[0]!, []);
      else if (line.startsWith('-A ')) table.get(chain)!.push(line);
      else if (line.startsWith('-X ')) {
        for (const lines of table.values()) expect(lines.some((l) => l.endsWith(` -j ${chain}`)), `${chain} still referenced`).toBe(false);
        table.delete(chain);
      }
    }
    for (const t of Object.values(tables)) {
      for (const lines of t.values()) for (const l of lines) {
        const target = / -j (KEEL-\S+)/.exec(l)?.[1];
        if (target) expect(t.has(target), `${l} (after a batch)`).toBe(true);
      }
    }
  }
}

describe('planRestore split into batches', () => {
  const many = (n: number, eps: number) => ({
    services: Array.from({ length: n }, (_, i) => service(`s${i}`, `10.96.1.${i}`, [{ name: 'p', port: 80, targetPort: 8080, nodePort: 30000 + i }], { type: 'NodePort' })),
    slices: Array.from({ length: n }, (_, i) => slice(`s${i}`, Array.from({ length: eps }, (_, j) => `10.244.${i}.${j + 2}`), [{ name: 'p', port: 8080 }])),
  });

  it('a big full sync goes in ordered chunks, each leaving every jump with a target', () => {
    const { services, slices } = many(40, 3);
    const desired = computeRules(services, slices, config).tables;
    const plan = planRestore({ desired, existing: { nat: new Set(), filter: new Set() }, missingJumps: JUMPS, maxChainsPerBatch: 7 });
    expect(plan.batches.length).toBe(Math.ceil((desired.nat.size + desired.filter.size) / 7));
    const tables = { nat: new Map(['PREROUTING', 'OUTPUT', 'POSTROUTING'].map((c) => [c, [] as string[]])), filter: new Map(['INPUT', 'FORWARD', 'OUTPUT'].map((c) => [c, [] as string[]])) };
    applyChecked(plan.batches, tables);
    for (const [chain, lines] of desired.nat) expect(tables.nat.get(chain)).toEqual(lines);
    // The jumps come with the last batch, once everything they lead to exists.
    expect(plan.batches.at(-1)).toContain('-I PREROUTING 1');
    expect(plan.batches.slice(0, -1).join('')).not.toContain('-I ');
  });

  it('stale chains are flushed in one phase and deleted in the next, never while referenced', () => {
    const big = many(20, 3);
    const small = many(5, 2);
    const before = computeRules(big.services, big.slices, config).tables;
    const after = computeRules(small.services, small.slices, config).tables;
    const tables = { nat: new Map([...before.nat].map(([c, l]) => [c, [...l]])), filter: new Map([...before.filter].map(([c, l]) => [c, [...l]])) };
    const plan = planRestore({ desired: after, applied: before, maxChainsPerBatch: 5 });
    expect(plan.deleted.length).toBe(before.nat.size - after.nat.size);
    applyChecked(plan.batches, tables);
    expect([...tables.nat.keys()].sort()).toEqual([...after.nat.keys()].sort());
  });
});

describe('cleanupScript', () => {
  it('deletes the jumps into our chains and our chains, and leaves CNI, kube and other keel rules alone', () => {
    const save = [
      '# Generated by iptables-save v1.8.9 (nf_tables)',
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':KEEL-SERVICES - [0:0]',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "keel service portals" -j KEEL-SERVICES',
      '-A FORWARD -s 10.244.0.0/24 ! -o keel-+ -m comment --comment "keel keel-n1 egress guard" -j DROP',
      '-A KEEL-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
      'COMMIT',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KEEL-SERVICES - [0:0]',
      ':KEEL-SVC-CDGGSHYLG3RE2FKL - [0:0]',
      ':CNI-HOSTPORT-DNAT - [0:0]',
      '-A PREROUTING -m comment --comment "keel service portals" -j KEEL-SERVICES',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
      '-A KEEL-SERVICES -d 10.96.0.10/32 -j KEEL-SVC-CDGGSHYLG3RE2FKL',
      'COMMIT',
    ].join('\n');
    const { script, chains, rules } = cleanupScript(parseSave(save));
    expect(rules).toBe(2);
    expect(names(chains)).toEqual(['filter KEEL-SERVICES', 'nat KEEL-SERVICES', 'nat KEEL-SVC-CDGGSHYLG3RE2FKL']);
    expect(script).toContain('-D FORWARD -m conntrack --ctstate NEW -m comment --comment "keel service portals" -j KEEL-SERVICES');
    expect(script).toContain('-D PREROUTING -m comment --comment "keel service portals" -j KEEL-SERVICES');
    expect(script).not.toContain('egress guard');
    expect(script).not.toContain('CNI-HOSTPORT');
  });

  it('nothing of ours: an empty script', () => {
    expect(cleanupScript(parseSave('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n')).script).toBe('');
  });
});
