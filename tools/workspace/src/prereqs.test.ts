// The Debian prerequisites installer: refuses to run without root, with a clear reason, and
// on a machine that already has everything (as the test command leaves it) installs nothing.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../prereqs/install.sh');

describe('tools/prereqs/install.sh', () => {
  it('fails clearly when not run as root', () => {
    const res = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', script], { encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/keel-prereqs: error: must run as root/);
  });

  it('installs nothing when every package is there', () => {
    const res = spawnSync('bash', [script], { encoding: 'utf8', timeout: 60_000 });
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/keel-prereqs: all \d+ Debian packages already installed/);
  });
});
