import { describe, expect, it } from 'vitest';
import { apiserverAddresses, apiserverArgs, controllerManagerArgs, haLayout, schedulerArgs, storeArgs, storeEndpoints, workerAgentArgs, type PkiFiles } from './layout';

const pki: PkiFiles = {
  caCert: '/p/ca.crt',
  apiserverCert: '/p/apiserver.crt',
  apiserverKey: '/p/apiserver.key',
  saPublicKey: '/p/sa.pub',
  saPrivateKey: '/p/sa.key',
  kubeletClient: { cert: '/p/apiserver-kubelet-client.crt', key: '/p/apiserver-kubelet-client.key' },
  client: (name) => ({ cert: `/p/${name}.crt`, key: `/p/${name}.key` }),
  kubeletServing: (node) => ({ cert: `/p/kubelet-${node}.crt`, key: `/p/kubelet-${node}.key` }),
};

const flag = (args: string[], name: string) => {
  const eq = args.find((a) => a.startsWith(`${name}=`));
  if (eq) return eq.slice(name.length + 1);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

describe('haLayout', () => {
  it('puts three control-plane hosts and two workers on the subnet', () => {
    const l = haLayout();
    expect(l.bridge).toEqual({ name: 'keel-ha0', subnet: '10.241.0.0/24', gateway: '10.241.0.1' });
    expect(l.controlPlanes.map((h) => [h.name, h.ip])).toEqual([
      ['keel-ha-cp1', '10.241.0.11'],
      ['keel-ha-cp2', '10.241.0.12'],
      ['keel-ha-cp3', '10.241.0.13'],
    ]);
    expect(l.workers.map((h) => [h.name, h.ip])).toEqual([
      ['keel-ha-w1', '10.241.0.21'],
      ['keel-ha-w2', '10.241.0.22'],
    ]);
  });

  it('takes another prefix and subnet, so a test cluster can run beside the demo', () => {
    const l = haLayout({ prefix: 'keel-hat', subnet: '10.241.1.0/24', workers: 0 });
    expect(l.bridge.name).toBe('keel-hat0');
    expect(l.controlPlanes[0]).toMatchObject({ name: 'keel-hat-cp1', ip: '10.241.1.11' });
    expect(l.workers).toEqual([]);
  });

  it('refuses sizes and names it cannot run, naming the flag', () => {
    expect(() => haLayout({ controlPlanes: 2 })).toThrow(/--control-planes: expected an odd number/);
    expect(() => haLayout({ controlPlanes: 9 })).toThrow(/--control-planes/);
    expect(() => haLayout({ workers: -1 })).toThrow(/--workers/);
    expect(() => haLayout({ prefix: 'ha' })).toThrow(/prefix must be keel-/);
    expect(() => haLayout({ prefix: 'keel-much-too-long' })).toThrow(/prefix/);
    expect(() => haLayout({ subnet: '10.241.0.0/16' })).toThrow(/a\.b\.c\.0\/24/);
  });
});

describe('command lines', () => {
  const l = haLayout();
  const [cp1, cp2] = l.controlPlanes as [never, never];

  it('makes each store member one of a cluster of all control-plane hosts, on its own IP', () => {
    const args = storeArgs(l, cp2, '/d/keel-store');
    expect(flag(args, '--name')).toBe('keel-ha-cp2');
    expect(flag(args, '--listen-client-urls')).toBe('http://10.241.0.12:2379');
    expect(flag(args, '--listen-peer-urls')).toBe('http://10.241.0.12:2380');
    expect(flag(args, '--initial-cluster')).toBe('keel-ha-cp1=http://10.241.0.11:2380,keel-ha-cp2=http://10.241.0.12:2380,keel-ha-cp3=http://10.241.0.13:2380');
    expect(storeEndpoints(l)).toEqual(['10.241.0.11:2379', '10.241.0.12:2379', '10.241.0.13:2379']);
  });

  it('gives each apiserver every store member, its own first, and binds it to its host', () => {
    const args = apiserverArgs(l, cp2, pki);
    expect(flag(args, '--etcd-servers')).toBe('10.241.0.12:2379,10.241.0.11:2379,10.241.0.13:2379');
    expect(flag(args, '--bind-address')).toBe('10.241.0.12');
    expect(flag(args, '--client-ca-file')).toBe('/p/ca.crt');
    // Logs and streams go to the agents over HTTPS as kube-apiserver-kubelet-client.
    expect(flag(args, '--kubelet-client-certificate')).toBe('/p/apiserver-kubelet-client.crt');
    expect(flag(args, '--kubelet-client-key')).toBe('/p/apiserver-kubelet-client.key');
    expect(flag(args, '--kubelet-certificate-authority')).toBe('/p/ca.crt');
  });

  it("serves each worker's node endpoint with its own certificate, for the cluster CA's clients only", () => {
    const w = l.workers[1]!;
    const args = workerAgentArgs(l, w, pki);
    expect(flag(args, '--apiserver')).toBe('10.241.0.11:6444,10.241.0.12:6444,10.241.0.13:6444');
    expect(flag(args, '--client-certificate')).toBe(`/p/node-${w.name}.crt`);
    expect(flag(args, '--tls-cert-file')).toBe(`/p/kubelet-${w.name}.crt`);
    expect(flag(args, '--tls-private-key-file')).toBe(`/p/kubelet-${w.name}.key`);
    expect(flag(args, '--client-ca-file')).toBe('/p/ca.crt');
  });

  it('leader-elects the scheduler and controller-manager, each reaching every apiserver with its own first', () => {
    const s = schedulerArgs(l, cp2, pki);
    expect(s).toContain('--leader-elect');
    expect(flag(s, '--grpc-server')).toBe('10.241.0.12:6444,10.241.0.11:6444,10.241.0.13:6444');
    expect(flag(s, '--leader-elect-resource-name')).toBe('kube-scheduler');
    expect(flag(s, '--client-certificate')).toBe('/p/kube-scheduler.crt');
    const c = controllerManagerArgs(l, cp1, pki);
    expect(c).toContain('--leader-elect');
    expect(flag(c, '--apiserver')).toBe('10.241.0.11:6444,10.241.0.12:6444,10.241.0.13:6444');
    expect(flag(c, '--apiserver-url')).toBe('https://10.241.0.11:6443');
    expect(flag(c, '--cluster-cidr')).toBe('10.247.0.0/16');
    expect(apiserverAddresses(l)).toEqual(['10.241.0.11:6444', '10.241.0.12:6444', '10.241.0.13:6444']);
  });
});
