// Service ClusterIPs and NodePorts: the Service strategy's allocation hooks over two
// store-backed ranges. The network address and the broadcast address of the service CIDR
// are never used; its first usable address is kept for the `kubernetes` Service, given only
// when asked for by name.
import { ApiErrors, type KubeObject } from '@keel/api';
import type { EtcdClient } from '@keel/etcd-client';
import { AllocatedError, formatIp, parseCidr, parseIp, RangeAllocator } from './range';

interface ServicePort {
  name?: string;
  port: number;
  nodePort?: number;
  protocol?: string;
}
export type Service = KubeObject & {
  spec?: { type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: ServicePort[] };
};

export interface ServiceAllocatorOptions {
  serviceCidr: string;
  nodePortRange: { min: number; max: number };
  random: () => number;
}

export class ServiceAllocator {
  private readonly ips: RangeAllocator;
  private readonly ports: RangeAllocator;
  private readonly base: number;
  private readonly ipCount: number;

  constructor(
    etcd: EtcdClient,
    private readonly opts: ServiceAllocatorOptions,
  ) {
    const { base, size } = parseCidr(opts.serviceCidr);
    // Offset 0 is base+1: the network address (and the broadcast address) are left out.
    this.base = base + 1;
    this.ipCount = size - 2;
    this.ips = new RangeAllocator(etcd, '/registry/ranges/serviceips', opts.serviceCidr, this.ipCount, opts.random, new Set([0]));
    const { min, max } = opts.nodePortRange;
    this.ports = new RangeAllocator(etcd, '/registry/ranges/servicenodeports', `${min}-${max}`, max - min + 1, opts.random);
  }

  /** The address the `kubernetes` Service gets. */
  get firstAddress(): string {
    return formatIp(this.base);
  }

  private ipOffset(ip: string): number | undefined {
    const n = parseIp(ip);
    if (n === undefined) return undefined;
    const offset = n - this.base;
    return offset >= 0 && offset < this.ipCount ? offset : undefined;
  }

  private needsClusterIP(svc: Service): boolean {
    return svc.spec?.type !== 'ExternalName' && svc.spec?.clusterIP !== 'None';
  }

  private needsNodePorts(svc: Service): boolean {
    return svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
  }

  /** Fills in the ClusterIP and NodePorts of a new Service, taking them from the ranges. */
  async allocate(svc: Service): Promise<void> {
    const name = svc.metadata.name ?? '';
    const invalid = (field: string, value: unknown, detail: string) =>
      ApiErrors.invalid({ kind: 'Service' }, name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field }]);
    const taken: (() => Promise<void>)[] = [];
    try {
      if (this.needsClusterIP(svc) && svc.spec) {
        const requested = svc.spec.clusterIP || svc.spec.clusterIPs?.[0];
        let offset: number;
        if (requested) {
          const o = this.ipOffset(requested);
          if (o === undefined) throw invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.opts.serviceCidr}`);
          try {
            offset = await this.ips.allocate(o);
          } catch (err) {
            if (err instanceof AllocatedError) throw invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`);
            throw err;
          }
        } else {
          offset = await this.ips.allocate();
        }
        taken.push(() => this.ips.release(offset));
        const ip = formatIp(this.base + offset);
        svc.spec.clusterIP = ip;
        svc.spec.clusterIPs = [ip];
      }
      if (this.needsNodePorts(svc)) {
        const { min, max } = this.opts.nodePortRange;
        for (const [i, port] of (svc.spec?.ports ?? []).entries()) {
          let offset: number;
          if (port.nodePort) {
            if (port.nodePort < min || port.nodePort > max) {
              throw invalid(`spec.ports[${i}].nodePort`, port.nodePort, `provided port is not in the valid range. The range of valid ports is ${min}-${max}`);
            }
            try {
              offset = await this.ports.allocate(port.nodePort - min);
            } catch (err) {
              if (err instanceof AllocatedError) throw invalid(`spec.ports[${i}].nodePort`, port.nodePort, 'provided port is already allocated');
              throw err;
            }
          } else {
            offset = await this.ports.allocate();
          }
          taken.push(() => this.ports.release(offset));
          port.nodePort = min + offset;
        }
      }
    } catch (err) {
      for (const undo of taken) await undo();
      throw err;
    }
  }

  /** Gives back what a Service held. */
  async release(svc: Service): Promise<void> {
    for (const ip of svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])) {
      const offset = this.ipOffset(ip);
      if (offset !== undefined) await this.ips.release(offset);
    }
    if (this.needsNodePorts(svc)) {
      for (const port of svc.spec?.ports ?? []) {
        if (port.nodePort) await this.ports.release(port.nodePort - this.opts.nodePortRange.min);
      }
    }
  }
}
