// The apiserver's kubelet client flags: which combinations are accepted, and errors that name the flag.
import { describe, expect, it } from 'vitest';
import { kubeletClientFromFlags, kubeletScheme, kubeletUpgradeTls } from './kubelet-client';

const read = (flag: string, file: string) => {
  if (file === 'missing') throw new Error(`${flag} ${file}: ENOENT`);
  return Buffer.from(`${flag}:${file}`);
};

describe('kubelet client flags', () => {
  it('stays plain HTTP without flags', () => {
    const config = kubeletClientFromFlags({}, read);
    expect(config).toBeUndefined();
    expect(kubeletScheme(config)).toBe('http');
    expect(kubeletUpgradeTls(config)).toEqual({});
  });

  it('calls agents over HTTPS with the client certificate, verified against the CA', () => {
    const config = kubeletClientFromFlags({ cert: 'c.crt', key: 'c.key', ca: 'ca.crt' }, read);
    expect(kubeletScheme(config)).toBe('https');
    expect(kubeletUpgradeTls(config)).toEqual({
      ca: Buffer.from('--kubelet-certificate-authority:ca.crt'),
      cert: Buffer.from('--kubelet-client-certificate:c.crt'),
      key: Buffer.from('--kubelet-client-key:c.key'),
    });
    // A CA alone: HTTPS, verified, anonymous.
    expect(kubeletUpgradeTls(kubeletClientFromFlags({ ca: 'ca.crt' }, read))).toEqual({ ca: Buffer.from('--kubelet-certificate-authority:ca.crt') });
  });

  it('refuses half a pair, a certificate without a CA, and names the flag of an unreadable file', () => {
    expect(() => kubeletClientFromFlags({ cert: 'c.crt', ca: 'ca.crt' }, read)).toThrow('--kubelet-client-certificate and --kubelet-client-key go together');
    expect(() => kubeletClientFromFlags({ cert: 'c.crt', key: 'c.key' }, read)).toThrow(/needs --kubelet-certificate-authority/);
    expect(() => kubeletClientFromFlags({ cert: 'c.crt', key: 'missing', ca: 'ca.crt' }, read)).toThrow('--kubelet-client-key missing: ENOENT');
  });
});
