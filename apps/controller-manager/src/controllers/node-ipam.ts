// Node IPAM, the range allocator: each node gets `spec.podCIDR` (and `podCIDRs`), a /24 (by
// default) out of `--cluster-cidr`, which the agent's CNI bridge hands out pod IPs from.
// Which blocks are taken is read back from the nodes themselves, so a restarted controller
// manager carries on where it stopped; blocks it handed out that the cache has not yet shown
// are remembered until it does.

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new Error(`invalid CIDR ${JSON.stringify(text)}: expected IPv4 a.b.c.d/n`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

export function formatCidr(cidr: Cidr): string {
  const b = cidr.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${cidr.prefix}`;
}

export class RangeAllocator {
  private readonly cluster: Cidr;
  private readonly size: number;
  private readonly pending = new Set<string>();

  constructor(clusterCidr: string, readonly maskSize = 24) {
    this.cluster = parseCidr(clusterCidr);
    if (maskSize < this.cluster.prefix || maskSize > 32) throw new Error(`node CIDR mask size /${maskSize} does not fit in ${clusterCidr}`);
    this.size = 2 ** (maskSize - this.cluster.prefix);
  }

  /** The first free block, given the blocks nodes already have; undefined when full. */
  allocate(inUse: Iterable<string>): string | undefined {
    const taken = new Set([...inUse, ...this.pending]);
    const step = 2 ** (32 - this.maskSize);
    for (let i = 0; i < this.size; i++) {
      const cidr = formatCidr({ base: (this.cluster.base + i * step) >>> 0, prefix: this.maskSize });
      if (!taken.has(cidr)) {
        this.pending.add(cidr);
        return cidr;
      }
    }
    return undefined;
  }

  /** The cache now shows `cidr` on a node (or the write failed): stop remembering it. */
  settle(cidr: string): void {
    this.pending.delete(cidr);
  }
}
