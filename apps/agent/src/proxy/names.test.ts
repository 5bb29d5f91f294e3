import { describe, expect, it } from 'vitest';
import { base32, endpointChain, isOwnChain, probability, serviceChain, servicePortName } from './names';

describe('chain names', () => {
  it('hash as kube-proxy does (its own test vectors, with KEEL- for KUBE-)', () => {
    // kube-proxy's proxier_test.go: ns1/svc1:p80 tcp → KUBE-SVC-XPGD46QRK7WJZT7O, endpoint 10.180.0.1:80 → KUBE-SEP-SXIVWICOYRO3J4NJ.
    expect(serviceChain('ns1/svc1:p80', 'TCP')).toBe('KEEL-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChain('ns1/svc1:p80', 'TCP', '10.180.0.1:80')).toBe('KEEL-SEP-SXIVWICOYRO3J4NJ');
  });

  it('differ by protocol and fit iptables’ 28-character limit', () => {
    const tcp = serviceChain('kube-system/dns:dns', 'TCP');
    const udp = serviceChain('kube-system/dns:dns', 'UDP');
    expect(tcp).not.toBe(udp);
    expect(tcp.length).toBeLessThanOrEqual(28);
    expect(isOwnChain('nat', tcp)).toBe(true);
    expect(isOwnChain('nat', 'KUBE-SVC-XPGD46QRK7WJZT7O')).toBe(false);
    expect(isOwnChain('nat', 'CNI-HOSTPORT-DNAT')).toBe(false);
    expect(isOwnChain('filter', 'KEEL-EXTERNAL-SERVICES')).toBe(true);
    expect(isOwnChain('filter', 'KEEL-NODEPORTS')).toBe(false);
  });

  it('port names follow ServicePortName.String()', () => {
    expect(servicePortName('ns', 'web', 'http')).toBe('ns/web:http');
    expect(servicePortName('ns', 'web', '')).toBe('ns/web');
  });

  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('base32 of %j is the RFC 4648 vector (unpadded) %s', (text, encoded) => {
    expect(base32(new TextEncoder().encode(text))).toBe(encoded);
  });
});

describe('probabilities', () => {
  it.each([
    [2, '0.50000000000'],
    [3, '0.33333333349'],
    [4, '0.25000000000'],
    [5, '0.20000000019'],
    [6, '0.16666666651'],
    [7, '0.14285714272'],
    [10, '0.10000000009'],
    [100, '0.00999999978'],
    [1000, '0.00100000016'],
  ])('1/%i is written as iptables-save prints it (checked against iptables 1.8.9): %s', (n, text) => {
    expect(probability(n)).toBe(text);
  });
});
