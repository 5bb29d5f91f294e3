// Running the commands of commands.ts: on the root side, or inside a host with
// `nsenter --net` (never `ip netns exec`, which remounts /sys so runc finds no cgroups).
import { execFile } from 'node:child_process';
import type { Command } from './commands';
import { inHostArgv } from './commands';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command, never throwing: the caller decides what a non-zero exit means. */
export function run(c: Command, opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const argv = c.netns ? inHostArgv(c.netns, [c.cmd, ...c.args]) : [c.cmd, ...c.args];
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr) || (err && !stderr ? err.message : ''), code });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run, but throws with the command and its stderr when it fails. */
export async function mustRun(c: Command, opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const res = await run(c, opts);
  if (res.code !== 0) {
    const where = c.netns ? ` (in ${c.netns})` : '';
    throw new Error(`${c.cmd} ${c.args.join(' ')}${where} failed (${res.code}): ${res.stderr.trim()}`);
  }
  return res.stdout;
}

/** Adds an iptables rule unless it is there already (-C first): idempotent. */
export async function ensureRule(table: string, rule: string[], netns?: string): Promise<void> {
  const present = await run({ cmd: 'iptables', args: ['-w', '-t', table, '-C', ...rule], netns });
  if (present.code === 0) return;
  await mustRun({ cmd: 'iptables', args: ['-w', '-t', table, '-I', ...rule], netns });
}

/** Deletes every copy of an iptables rule; answers whether one was there. */
export async function deleteRule(table: string, rule: string[], netns?: string): Promise<boolean> {
  let removed = false;
  while ((await run({ cmd: 'iptables', args: ['-w', '-t', table, '-D', ...rule], netns })).code === 0) removed = true;
  return removed;
}
