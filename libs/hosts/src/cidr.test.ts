import { describe, expect, it } from 'vitest';
import { cidrsOverlap, containsAddress, formatIpv4, nthAddress, nthSubnet, parseCidr, parseIpv4 } from './cidr';

describe('IPv4 arithmetic', () => {
  it('parses and formats addresses, refusing bad octets', () => {
    expect(formatIpv4(parseIpv4('10.242.0.1'))).toBe('10.242.0.1');
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(() => parseIpv4('10.242.0.256')).toThrow(/not an IPv4 address/);
    expect(() => parseIpv4('10.242.0')).toThrow(/not an IPv4 address/);
  });

  it('parses CIDRs and refuses host bits', () => {
    expect(parseCidr('10.242.0.0/24')).toEqual({ base: parseIpv4('10.242.0.0'), prefix: 24, size: 256 });
    expect(() => parseCidr('10.242.0.1/24')).toThrow(/host bits set; the network is 10.242.0.0\/24/);
    expect(() => parseCidr('10.242.0.0/33')).toThrow(/prefix length/);
  });

  it('numbers usable addresses and refuses network and broadcast', () => {
    expect(nthAddress('10.242.0.0/24', 1)).toBe('10.242.0.1');
    expect(nthAddress('10.242.0.0/24', 254)).toBe('10.242.0.254');
    expect(() => nthAddress('10.242.0.0/24', 255)).toThrow(/not a usable address/);
    expect(() => nthAddress('10.242.0.0/24', 0)).toThrow(/not a usable address/);
  });

  it('answers containment and overlap', () => {
    expect(containsAddress('10.242.0.0/24', '10.242.0.77')).toBe(true);
    expect(containsAddress('10.242.0.0/24', '10.242.1.1')).toBe(false);
    expect(cidrsOverlap('10.246.0.0/16', '10.246.3.0/24')).toBe(true);
    expect(cidrsOverlap('10.246.0.0/16', '10.244.0.0/16')).toBe(false);
    expect(cidrsOverlap('0.0.0.0/0', '10.1.0.0/16')).toBe(true);
  });

  it('cuts pod CIDRs out of a cluster CIDR', () => {
    expect(nthSubnet('10.246.0.0/16', 24, 0)).toBe('10.246.0.0/24');
    expect(nthSubnet('10.246.0.0/16', 24, 5)).toBe('10.246.5.0/24');
    expect(() => nthSubnet('10.246.0.0/16', 24, 256)).toThrow(/has 256 \/24 subnets/);
    expect(() => nthSubnet('10.246.0.0/24', 16, 0)).toThrow(/cannot cut/);
  });
});
