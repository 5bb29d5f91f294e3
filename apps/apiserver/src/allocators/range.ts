// A range of numbered things (Service ClusterIPs, NodePorts) allocated through the store,
// as kube-apiserver keeps them: one key per range holding a bitmap of what is taken,
// changed only by compare-and-swap on its mod_revision, so two apiservers racing for the
// same number cannot both get it. A number taken by a create that then failed is released
// by the caller; a periodic repair (not here yet) would catch what a crash leaks.
import { ApiError, ApiErrors } from '@keel/api';
import type { EtcdClient } from '@keel/etcd-client';

interface Stored {
  /** Human-readable description of the range, for operators reading the store. */
  range: string;
  size: number;
  /** base64 of the bitmap, bit i set when offset i is taken. */
  data: string;
}

export class RangeAllocator {
  constructor(
    private readonly etcd: EtcdClient,
    /** Store key, e.g. /registry/ranges/serviceips. */
    private readonly key: string,
    private readonly description: string,
    /** How many offsets the range has. */
    readonly size: number,
    private readonly random: () => number,
    /** Offsets never handed out at random (e.g. the first IP, kept for the kubernetes service). */
    private readonly reservedForRequest: ReadonlySet<number> = new Set(),
  ) {}

  private async read(): Promise<{ bits: Buffer; modRevision: number }> {
    const { kv } = await this.etcd.get(this.key);
    if (!kv) return { bits: Buffer.alloc(Math.ceil(this.size / 8)), modRevision: 0 };
    const stored = JSON.parse(kv.value.toString('utf8')) as Stored;
    const bits = Buffer.alloc(Math.ceil(this.size / 8));
    Buffer.from(stored.data, 'base64').copy(bits);
    return { bits, modRevision: kv.modRevision };
  }

  private async write(bits: Buffer, modRevision: number): Promise<boolean> {
    const value: Stored = { range: this.description, size: this.size, data: bits.toString('base64') };
    const res = await this.etcd.txn({
      compare: [{ key: this.key, target: 'MOD', result: 'EQUAL', modRevision }],
      success: [{ put: { key: this.key, value: JSON.stringify(value) } }],
      failure: [],
    });
    return res.succeeded;
  }

  private static isSet(bits: Buffer, i: number): boolean {
    return (bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  private static set(bits: Buffer, i: number, on: boolean): void {
    if (on) bits[i >> 3]! |= 1 << (i & 7);
    else bits[i >> 3]! &= ~(1 << (i & 7));
  }

  /** Takes `offset`, or any free one when undefined; returns the offset taken. */
  async allocate(offset?: number): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const { bits, modRevision } = await this.read();
      let chosen: number | undefined;
      if (offset !== undefined) {
        if (offset < 0 || offset >= this.size) throw new RangeError(`offset ${offset} outside the range ${this.description}`);
        if (RangeAllocator.isSet(bits, offset)) throw new AllocatedError();
        chosen = offset;
      } else {
        // Start at a random point and scan, so concurrent allocators rarely collide.
        const start = Math.floor(this.random() * this.size);
        for (let i = 0; i < this.size; i++) {
          const candidate = (start + i) % this.size;
          if (!this.reservedForRequest.has(candidate) && !RangeAllocator.isSet(bits, candidate)) {
            chosen = candidate;
            break;
          }
        }
        if (chosen === undefined) throw new ApiError('InternalError', `range ${this.description} is full`);
      }
      RangeAllocator.set(bits, chosen, true);
      if (await this.write(bits, modRevision)) return chosen;
    }
    throw ApiErrors.conflict({ resource: 'ranges' }, this.key, 'too many concurrent allocations; try again');
  }

  async release(offset: number): Promise<void> {
    if (offset < 0 || offset >= this.size) return;
    for (let attempt = 0; attempt < 50; attempt++) {
      const { bits, modRevision } = await this.read();
      if (!RangeAllocator.isSet(bits, offset)) return;
      RangeAllocator.set(bits, offset, false);
      if (await this.write(bits, modRevision)) return;
    }
  }

  async isAllocated(offset: number): Promise<boolean> {
    return RangeAllocator.isSet((await this.read()).bits, offset);
  }
}

/** The requested number is taken already. */
export class AllocatedError extends Error {
  constructor() {
    super('already allocated');
  }
}

/** An IPv4 CIDR: its first address as a number and its size. */
export function parseCidr(cidr: string): { base: number; size: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`not an IPv4 CIDR: "${cidr}"`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits < 12 || bits > 30) throw new Error(`CIDR "${cidr}" must be IPv4 with a prefix between /12 and /30`);
  const ip = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const size = 2 ** (32 - bits);
  return { base: ip - (ip % size), size };
}

export function formatIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseIp(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}
