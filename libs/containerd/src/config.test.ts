import { describe, expect, it } from 'vitest';
import { cidrsOverlap, gatewayOf, nodePaths, parseCidr, renderCniConflist, renderContainerdConfig, renderHostsToml, renderNodeFiles, type NodeRuntimeSettings } from './config';
import { hostportCleanupScript, portmapCleanupScript } from './network';

const settings: NodeRuntimeSettings = {
  dir: '/var/tmp/keel-node-a',
  sandboxImage: '127.0.0.1:5000/keel/pause:3.9',
  podCidr: '10.244.3.0/24',
  bridge: 'keel-cni0',
  streamAddress: '10.10.0.2',
  streamPort: 10010,
  registries: [{ host: '127.0.0.1:5000', endpoint: 'http://10.10.0.1:5000' }],
};

describe('node paths', () => {
  it('keeps everything under the keel- folder, and refuses another name', () => {
    const p = nodePaths('/var/tmp/keel-node-a');
    for (const path of Object.values(p)) expect(path.startsWith('/var/tmp/keel-node-a')).toBe(true);
    expect(() => nodePaths('/var/tmp/node-a')).toThrow(/keel-/);
  });
});

describe('containerd config', () => {
  const toml = renderContainerdConfig(settings);

  it('puts root, state, sockets and runc root under the node folder', () => {
    expect(toml).toContain('root = "/var/tmp/keel-node-a/root"');
    expect(toml).toContain('state = "/var/tmp/keel-node-a/state"');
    expect(toml).toContain('address = "/var/tmp/keel-node-a/containerd.sock"');
    expect(toml).toContain('address = "/var/tmp/keel-node-a/containerd.sock.ttrpc"');
    expect(toml).toContain('Root = "/var/tmp/keel-node-a/runc"');
    expect(toml).toContain('conf_dir = "/var/tmp/keel-node-a/cni/net.d"');
    expect(toml).toContain('config_path = "/var/tmp/keel-node-a/certs.d"');
  });

  it('has the settings this machine needs', () => {
    expect(toml).toMatch(/^version = 2$/m);
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('sandbox_image = "127.0.0.1:5000/keel/pause:3.9"');
    expect(toml).toContain('stream_server_address = "10.10.0.2"');
    expect(toml).toContain('stream_server_port = "10010"');
    expect(toml).toContain('netns_mounts_under_state_dir = true');
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('max_conf_num = 1');
    expect(toml).toContain('"io.containerd.internal.v1.opt"');
  });

  it('refuses a bridge name that is not keel- or too long for a link', () => {
    expect(() => renderContainerdConfig({ ...settings, bridge: 'cni0' })).toThrow(/bridge/);
    expect(() => renderContainerdConfig({ ...settings, bridge: 'keel-much-too-long' })).toThrow(/bridge/);
  });
});

describe('CNI conflist', () => {
  const conf = JSON.parse(renderCniConflist(settings)) as {
    name: string;
    plugins: { type: string; bridge?: string; ipMasq?: boolean; isGateway?: boolean; snat?: boolean; capabilities?: object; ipam?: { dataDir: string; ranges: { subnet: string; gateway: string }[][] } }[];
  };

  it('is a bridge without masquerade, with host-local IPAM in its own data dir, then portmap', () => {
    expect(conf.name).toBe('keel-node-a');
    expect(conf.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    const [bridge, portmap] = conf.plugins;
    expect(bridge).toMatchObject({ bridge: 'keel-cni0', isGateway: true, ipMasq: false });
    expect(bridge!.ipam!.ranges[0]![0]).toEqual({ subnet: '10.244.3.0/24', gateway: '10.244.3.1' });
    expect(bridge!.ipam!.dataDir).toBe('/var/tmp/keel-node-a/cni/ipam');
    expect(portmap).toMatchObject({ snat: true, capabilities: { portMappings: true } });
    expect(conf.plugins.some((p) => p.type === 'loopback')).toBe(false);
  });
});

describe('registry mirror', () => {
  it('writes hosts.toml per registry host, pointing at its endpoint', () => {
    const files = renderNodeFiles(settings);
    const hosts = files.get('/var/tmp/keel-node-a/certs.d/127.0.0.1:5000/hosts.toml');
    expect(hosts).toBe(renderHostsToml(settings.registries[0]!));
    expect(hosts).toContain('server = "http://10.10.0.1:5000"');
    expect(hosts).toContain('[host."http://10.10.0.1:5000"]');
    expect(hosts).toContain('capabilities = ["pull", "resolve"]');
  });
});

describe('CIDRs', () => {
  it('parses, finds the gateway, and refuses nonsense', () => {
    expect(parseCidr('10.244.0.0/24')).toEqual({ base: 0x0af40000, prefix: 24 });
    expect(gatewayOf('10.244.7.0/24')).toBe('10.244.7.1');
    expect(() => parseCidr('10.244.0.1/24')).toThrow(/host bits/);
    expect(() => parseCidr('10.244.0.0/31')).toThrow(/unusable/);
    expect(() => parseCidr('fd00::/64')).toThrow(/IPv4/);
  });

  it('detects overlap with routes', () => {
    expect(cidrsOverlap('10.244.0.0/16', '10.244.3.0/24')).toBe(true);
    expect(cidrsOverlap('10.244.4.0/24', '10.244.3.0/24')).toBe(false);
    expect(cidrsOverlap('192.0.2.0/24', '10.244.3.0/24')).toBe(false);
    expect(cidrsOverlap('10.244.3.7', '10.244.3.0/24')).toBe(true);
  });
});

describe('portmap cleanup', () => {
  const save = [
    '*nat',
    ':CNI-DN-aaa - [0:0]',
    ':CNI-DN-bbb - [0:0]',
    ':CNI-HOSTPORT-DNAT - [0:0]',
    '-A CNI-DN-aaa -d 127.0.0.1/32 -p tcp -m tcp --dport 18080 -j DNAT --to-destination 10.244.3.2:8080',
    '-A CNI-DN-bbb -d 127.0.0.1/32 -p tcp -m tcp --dport 18081 -j DNAT --to-destination 10.244.9.2:8080',
    '-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"keel-node-a\\" id: \\"c1\\"" -m multiport --dports 18080 -j CNI-DN-aaa',
    '-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"keel-node-b\\" id: \\"c2\\"" -m multiport --dports 18081 -j CNI-DN-bbb',
    'COMMIT',
  ].join('\n');

  it("removes only this network's jump and chain, leaving another node's alone", () => {
    const { script, chains, rules } = portmapCleanupScript(save, 'keel-node-a');
    expect(chains).toEqual(['CNI-DN-aaa']);
    expect(rules).toBe(1);
    expect(script).toContain('-D CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"keel-node-a\\" id: \\"c1\\""');
    expect(script).toContain('-F CNI-DN-aaa\n-X CNI-DN-aaa');
    expect(script).not.toContain('bbb');
    expect(script.startsWith('*nat\n')).toBe(true);
    expect(script.trimEnd().endsWith('COMMIT')).toBe(true);
  });

  it('does nothing for a network with no rules', () => {
    expect(portmapCleanupScript(save, 'keel-node-z')).toMatchObject({ chains: [], rules: 0 });
  });
});

describe('portmap global chains', () => {
  const globals = [
    '*nat',
    ':CNI-HOSTPORT-DNAT - [0:0]',
    ':CNI-HOSTPORT-MASQ - [0:0]',
    ':CNI-HOSTPORT-SETMARK - [0:0]',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
    '-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
    '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
    '-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
    '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000',
  ];

  it('removes the chains and their hooks once no pod uses them, if this node brought them', () => {
    const { script, chains } = hostportCleanupScript([...globals, 'COMMIT'].join('\n'), []);
    expect(chains).toEqual(['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']);
    expect(script).toContain('-D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT');
    expect(script).toContain('-D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ');
    expect(script).toContain('-X CNI-HOSTPORT-SETMARK');
    expect(script).not.toContain('-D CNI-HOSTPORT-MASQ');
  });

  it("keeps them while another node's pod has a port mapping, or when they were there before", () => {
    const other = [...globals, ':CNI-DN-bbb - [0:0]', '-A CNI-DN-bbb -s 10.244.9.0/24 -j CNI-HOSTPORT-SETMARK', 'COMMIT'].join('\n');
    expect(hostportCleanupScript(other, []).chains).toEqual([]);
    expect(hostportCleanupScript([...globals, 'COMMIT'].join('\n'), ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']).chains).toEqual([]);
  });
});
