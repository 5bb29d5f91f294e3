import type { Pod } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { containerConfig, linuxResources, sandboxConfig, type NodeSettings } from './cri-config';

const settings: NodeSettings = { nodeName: 'n', rootDir: '/var/lib/keel-agent', cgroupParent: '/keel-node', clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' };

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', uid: 'u1', labels: { app: 'web' } },
  spec: {
    terminationGracePeriodSeconds: 5,
    containers: [
      {
        name: 'c',
        image: 'keel/web:1.0',
        ports: [{ containerPort: 8080, hostPort: 18080 }],
        resources: { requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '64Mi' } },
        securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } },
      },
    ],
  },
};

describe('CRI configs', () => {
  it('sandbox: metadata, DNS, labels to find it again, log dir, host ports, cgroup parent, PID namespace per container', () => {
    const sb = sandboxConfig(pod, settings, 1);
    expect(sb.metadata).toEqual({ name: 'web', namespace: 'shop', uid: 'u1', attempt: 1 });
    expect(sb.hostname).toBe('web');
    expect(sb.dns_config).toEqual({ servers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] });
    expect(sb.labels).toMatchObject({ app: 'web', 'io.kubernetes.pod.uid': 'u1', 'io.keel.managed-by': 'keel-agent' });
    expect(sb.log_directory).toBe('/var/lib/keel-agent/logs/shop_web_u1');
    expect(sb.port_mappings).toEqual([{ protocol: 'TCP', container_port: 8080, host_port: 18080, host_ip: '' }]);
    expect(sb.linux!.cgroup_parent).toBe('/keel-node/podu1');
    expect(sb.linux!.security_context!.namespace_options).toEqual({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    expect(sandboxConfig({ ...pod, spec: { ...pod.spec!, shareProcessNamespace: true } }, settings, 0).linux!.security_context!.namespace_options!.pid).toBe('POD');
    expect(sandboxConfig({ ...pod, spec: { ...pod.spec!, dnsPolicy: 'Default' } }, settings, 0).dns_config).toBeUndefined();
  });

  it('container: resources, security context, log path per attempt, labels', () => {
    const c = containerConfig(pod, pod.spec!.containers[0]!, 2, [{ key: 'A', value: '1' }], [], 'keel/web:1.0');
    expect(c.metadata).toEqual({ name: 'c', attempt: 2 });
    expect(c.log_path).toBe('c/2.log');
    expect(c.labels).toMatchObject({ 'io.kubernetes.container.name': 'c', 'io.kubernetes.pod.uid': 'u1' });
    expect(c.linux!.resources).toEqual({ cpu_shares: '256', cpu_period: '100000', cpu_quota: '50000', memory_limit_in_bytes: String(64 * 1024 * 1024) });
    expect(c.linux!.security_context).toMatchObject({
      privileged: false,
      readonly_rootfs: true,
      run_as_user: { value: '1000' },
      capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] },
      namespace_options: { pid: 'CONTAINER' },
    });
  });

  it('cpu shares default to 2 without a request, as kubelet does for BestEffort', () => {
    expect(linuxResources({ name: 'x' })).toEqual({ cpu_shares: '2' });
    expect(linuxResources({ name: 'x', resources: { limits: { cpu: '1' } } })).toMatchObject({ cpu_shares: '1024', cpu_quota: '100000' });
  });
});
