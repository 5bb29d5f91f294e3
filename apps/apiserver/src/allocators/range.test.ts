import { describe, expect, it } from 'vitest';
import { formatIp, parseCidr, parseIp } from './range';

describe('CIDR arithmetic', () => {
  it('finds the network address and size', () => {
    expect(parseCidr('10.96.0.0/16')).toEqual({ base: parseIp('10.96.0.0'), size: 65536 });
    expect(parseCidr('10.96.5.7/24')).toEqual({ base: parseIp('10.96.5.0'), size: 256 });
    expect(formatIp(parseIp('192.168.1.255')!)).toBe('192.168.1.255');
  });
  it('rejects what is not an IPv4 CIDR of a usable size', () => {
    expect(() => parseCidr('10.96.0.0')).toThrow(/not an IPv4 CIDR/);
    expect(() => parseCidr('10.0.0.0/8')).toThrow(/between \/12 and \/30/);
    expect(parseIp('300.1.1.1')).toBeUndefined();
  });
});
