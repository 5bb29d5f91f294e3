// Termination messages, as kubelet keeps them: each container attempt gets its own empty
// file on the host, <pod dir>/containers/<name>/<attempt>, mounted at its
// terminationMessagePath (default /dev/termination-log); after it exits, what it wrote there
// (at most 4 KiB) becomes state.terminated.message (and lastState's, for the attempt before).
// With terminationMessagePolicy FallbackToLogsOnError, a container that failed and wrote
// nothing gets the tail of its log instead (at most 80 lines and 2 KiB).
import { chmodSync, closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Container } from '@keel/api';
import { readAllLogs } from '@keel/cri';
import type { Mount } from '@keel/cri';

export const MaxTerminationMessageBytes = 4096;
export const FallbackLogLines = 80;
export const FallbackLogBytes = 2048;

export function terminationMessageFile(podDir: string, container: string, attempt: number): string {
  return join(podDir, 'containers', container, String(attempt));
}

/** Creates the attempt's empty file and answers its mount, or undefined when the container asks for none. */
export function terminationMessageMount(podDir: string, c: Container, attempt: number): Mount | undefined {
  if (!c.terminationMessagePath) return undefined;
  const file = terminationMessageFile(podDir, c.name, attempt);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  // Any user in the container may write its message.
  chmodSync(file, 0o666);
  return { container_path: c.terminationMessagePath, host_path: file, readonly: false };
}

function readHead(file: string, max: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The last lines of a log, cut to the last `maxBytes` bytes (a whole log is never a message). */
export function logTail(lines: string[], maxBytes = FallbackLogBytes): string {
  const text = lines.slice(-FallbackLogLines).join('\n') + (lines.length ? '\n' : '');
  const bytes = Buffer.from(text);
  return bytes.length <= maxBytes ? text : bytes.subarray(bytes.length - maxBytes).toString('utf8');
}

/**
 * The message of an exited attempt: its file; else, under FallbackToLogsOnError and a
 * non-zero exit, its log's tail; else what the runtime said.
 */
export async function terminationMessage(
  c: Container,
  exited: { attempt: number; exitCode: number; runtimeMessage: string },
  where: { podDir: string; logFile: string },
): Promise<string> {
  const written = c.terminationMessagePath ? readHead(terminationMessageFile(where.podDir, c.name, exited.attempt), MaxTerminationMessageBytes) : '';
  if (written) return written;
  if (c.terminationMessagePolicy === 'FallbackToLogsOnError' && exited.exitCode !== 0) {
    const lines = await readAllLogs(where.logFile, { tail: FallbackLogLines }).catch(() => []);
    const tail = logTail(lines.map((l) => l.text));
    if (tail) return tail;
  }
  return exited.runtimeMessage;
}
