// Running the host commands the proxy needs (iptables-save/-restore, ip, sysctl,
// conntrack), on the host or inside a node's network namespace through
// `nsenter --net=/var/run/netns/NAME` (not `ip netns exec`, which remounts /sys).
import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Where commands run: the host's network (no netns) or a named network namespace. */
export interface Target {
  netns?: string;
}

/** Runs a command and never throws: the caller decides what a non-zero exit means. */
export function run(target: Target, cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
  const [file, argv] = target.netns ? ['nsenter', [`--net=/var/run/netns/${target.netns}`, cmd, ...args]] : [cmd, [...args]];
  return new Promise((resolve) => {
    const child = execFile(file, argv, { timeout: 60_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr) || (err && !stderr ? err.message : ''), code });
    });
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
}
