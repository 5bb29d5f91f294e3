import { describe, expect, it } from 'vitest';
import {
  addRouteCommand,
  bridgeOf,
  bridgeRulesCleanup,
  checkHostAddress,
  configureHostCommands,
  createVethCommands,
  egressGuardRule,
  inHostArgv,
  publishLoopbackRule,
} from './commands';
import { assertKeelName, assertLinkName, vethName } from './names';

const bridge = bridgeOf({ name: 'keel-hbr0', subnet: '10.242.0.0/24' });

describe('names', () => {
  it('accepts only keel-… names, and link names of at most 15 characters', () => {
    expect(assertKeelName('host', 'keel-mn-a')).toBe('keel-mn-a');
    expect(() => assertKeelName('host', 'mn-a')).toThrow(/host must be named keel-/);
    expect(() => assertKeelName('host', 'keel-A')).toThrow(/must be named keel-/);
    expect(() => assertLinkName('bridge', 'keel-a-very-long-bridge')).toThrow(/longer than 15/);
    expect(() => bridgeOf({ name: 'br0', subnet: '10.242.0.0/24' })).toThrow(/bridge must be named keel-/);
  });

  it('derives a stable, short, keel-… veth name from any host name', () => {
    const a = vethName('keel-multinode-node-a');
    expect(a).toMatch(/^keel-v[0-9a-f]{8}$/);
    expect(a.length).toBeLessThanOrEqual(15);
    expect(vethName('keel-multinode-node-a')).toBe(a);
    expect(vethName('keel-multinode-node-b')).not.toBe(a);
  });
});

describe('command lines', () => {
  it('puts the gateway on the first address', () => {
    expect(bridge).toMatchObject({ gateway: '10.242.0.1', prefix: 24 });
  });

  it('creates the veth peer inside the namespace as keel-eth0', () => {
    expect(createVethCommands('keel-mn-a')).toEqual([
      { cmd: 'ip', args: ['link', 'add', 'name', vethName('keel-mn-a'), 'type', 'veth', 'peer', 'name', 'keel-eth0', 'netns', 'keel-mn-a'] },
    ]);
  });

  it('wires a host with its address and no default route', () => {
    const cmds = configureHostCommands('keel-mn-a', bridge, '10.242.0.11');
    expect(cmds).toContainEqual({ cmd: 'ip', args: ['link', 'set', 'dev', vethName('keel-mn-a'), 'master', 'keel-hbr0'] });
    expect(cmds).toContainEqual({ cmd: 'ip', args: ['addr', 'replace', '10.242.0.11/24', 'dev', 'keel-eth0'], netns: 'keel-mn-a' });
    expect(cmds).toContainEqual({ cmd: 'ip', args: ['link', 'set', 'dev', 'lo', 'up'], netns: 'keel-mn-a' });
    expect(cmds.some((c) => c.args.includes('default') || c.args.includes('route'))).toBe(false);
  });

  it('checks host addresses against the bridge subnet', () => {
    expect(() => checkHostAddress(bridge, '10.242.0.11')).not.toThrow();
    expect(() => checkHostAddress(bridge, '10.242.1.11')).toThrow(/outside the bridge subnet/);
    expect(() => checkHostAddress(bridge, '10.242.0.1')).toThrow(/gateway/);
    expect(() => checkHostAddress(bridge, '10.242.0.0')).toThrow(/network address/);
    expect(() => checkHostAddress(bridge, '10.242.0.255')).toThrow(/broadcast/);
  });

  it('routes in a host or through a keel link on the root side, never a default route', () => {
    expect(addRouteCommand({ host: 'keel-mn-a', dst: '10.246.2.0/24', via: '10.242.0.12' })).toEqual({
      cmd: 'ip',
      args: ['route', 'replace', '10.246.2.0/24', 'via', '10.242.0.12'],
      netns: 'keel-mn-a',
    });
    expect(addRouteCommand({ dst: '10.246.2.0/24', via: '10.242.0.12', dev: 'keel-hbr0' }).args).toEqual([
      'route', 'replace', '10.246.2.0/24', 'via', '10.242.0.12', 'dev', 'keel-hbr0',
    ]);
    expect(() => addRouteCommand({ dst: '10.246.2.0/24', via: '10.242.0.12' })).toThrow(/needs dev/);
    expect(() => addRouteCommand({ dst: '10.246.2.0/24', via: '10.242.0.12', dev: 'eth0' })).toThrow(/keel-/);
    expect(() => addRouteCommand({ host: 'keel-mn-a', dst: '0.0.0.0/0', via: '10.242.0.1' })).toThrow(/default route/);
  });

  it('guards egress by source and keel-… links, and publishes loopback ports by DNAT', () => {
    expect(egressGuardRule('keel-hbr0', '10.246.0.0/16')).toEqual([
      'FORWARD', '-s', '10.246.0.0/16', '!', '-o', 'keel-+', '-m', 'comment', '--comment', 'keel-hosts keel-hbr0 egress guard 10.246.0.0/16', '-j', 'DROP',
    ]);
    const dnat = publishLoopbackRule(bridge, 5000);
    expect(dnat.join(' ')).toBe(
      'PREROUTING -i keel-hbr0 -d 10.242.0.1 -p tcp --dport 5000 -m comment --comment keel-hosts keel-hbr0 loopback 5000 -j DNAT --to-destination 127.0.0.1:5000',
    );
    expect(() => publishLoopbackRule(bridge, 0)).toThrow(/port must be 1-65535/);
  });

  it('enters a host with nsenter --net, not ip netns exec', () => {
    expect(inHostArgv('keel-mn-a', ['containerd', '-c', 'x.toml'])).toEqual(['nsenter', '--net=/var/run/netns/keel-mn-a', 'containerd', '-c', 'x.toml']);
  });

  it("finds only this bridge's rules in iptables-save output", () => {
    const save = [
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      '-A FORWARD -s 10.242.0.0/24 ! -o keel-+ -m comment --comment "keel-hosts keel-hbr0 egress guard 10.242.0.0/24" -j DROP',
      '-A FORWARD -s 10.241.0.0/24 ! -o keel-+ -m comment --comment "keel-hosts keel-hbr01 egress guard 10.241.0.0/24" -j DROP',
      '-A FORWARD -i keel-cni0 -j ACCEPT',
      'COMMIT',
      '*nat',
      '-A PREROUTING -d 10.242.0.1/32 -i keel-hbr0 -p tcp -m tcp --dport 5000 -m comment --comment "keel-hosts keel-hbr0 loopback 5000" -j DNAT --to-destination 127.0.0.1:5000',
      'COMMIT',
      '',
    ].join('\n');
    const { script, rules } = bridgeRulesCleanup(save, 'keel-hbr0');
    expect(rules).toBe(2);
    expect(script).toContain('-D FORWARD -s 10.242.0.0/24');
    expect(script).not.toContain('keel-hbr01');
    expect(script).not.toContain('keel-cni0');
    expect(script).toContain('*nat\n-D PREROUTING -d 10.242.0.1/32');
  });
});
