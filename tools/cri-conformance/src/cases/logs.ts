// Cases for container logs: the file at log_directory/log_path is in CRI format (both
// streams, P/F pieces for a line over 16 KiB, RFC 3339 times) and our reader gets the
// lines back; after the agent rotates the file, ReopenContainerLog starts a new one.
import { readFileSync, renameSync, statSync } from 'node:fs';
import { parseLogPiece, readAllLogs } from '@keel/cri';
import { check } from '../errors';
import type { ConformanceCase } from '../suite';

const LONG = 20_000; // over containerd's 16 KiB line limit, so it arrives in pieces

export const logCases: ConformanceCase[] = [
  {
    name: 'logs/cri-format',
    description: 'stdout and stderr land in one CRI-format file; long lines come as P…F pieces',
    async run(f) {
      const pod = await f.runPod();
      const script = `echo out-1; echo err-1 >&2; head -c ${LONG} /dev/zero | tr '\\0' x; echo; echo out-2; sleep 3600`;
      await f.container(pod, 'writer', f.images.busybox, { command: ['sh', '-c', script] });
      const path = f.logPath(pod, 'writer');
      const lines = await f.waitUntil(
        async () => {
          const got = await readAllLogs(path);
          return got.some((l) => l.text === 'out-2') ? got : undefined;
        },
        10_000,
        `log ${path} never showed all lines`,
      );
      const raw = readFileSync(path, 'utf8').trimEnd().split('\n');
      for (const line of raw) {
        check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d) (stdout|stderr) [PF] /.test(line), `not CRI format: ${JSON.stringify(line.slice(0, 80))}`);
      }
      check(raw.some((l) => parseLogPiece(l).partial), 'no partial (P) piece for a line over 16 KiB');
      const texts = lines.map((l) => `${l.stream}:${l.text.length > 40 ? `x*${l.text.length}` : l.text}`);
      const want = ['stdout:out-1', 'stderr:err-1', `stdout:x*${LONG}`, 'stdout:out-2'];
      for (const w of want) check(texts.includes(w), `missing ${w} in ${JSON.stringify(texts)}`);
      const long = lines.find((l) => l.text.length === LONG);
      check(long && /^x+$/.test(long.text), 'the long line was not joined back whole');
      // In order within each stream. Across streams they need not be: the runtime copies
      // stdout and stderr in two goroutines, each stamping a line when it reads it, so a
      // line stamped earlier on one stream can reach the file after a later one on the other.
      for (const stream of ['stdout', 'stderr']) {
        const times = lines.filter((l) => l.stream === stream).map((l) => l.time);
        check(times.every((t, i) => i === 0 || t >= times[i - 1]!), `${stream} log times go backwards`);
      }
      const tail = await readAllLogs(path, { tail: 1 });
      check(tail.length === 1 && tail[0]!.text === 'out-2', `tail 1 gave ${JSON.stringify(tail.map((l) => l.text.slice(0, 10)))}`);
    },
  },
  {
    name: 'logs/reopen',
    description: 'after the log file is moved away, ReopenContainerLog makes the runtime write a new one',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'ticker', f.images.busybox, {
        command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'],
      });
      const path = f.logPath(pod, 'ticker');
      await f.waitUntil(async () => (await readAllLogs(path)).length >= 2, 5_000, 'no ticks logged');
      renameSync(path, `${path}.1`);
      await f.client.reopenContainerLog(c);
      const fresh = await f.waitUntil(
        async () => {
          const lines = await readAllLogs(path);
          return lines.length >= 2 ? lines : undefined;
        },
        5_000,
        'no new log file after ReopenContainerLog',
      );
      const firstNew = Number(/tick (\d+)/.exec(fresh[0]!.text)?.[1]);
      const oldLines = readFileSync(`${path}.1`, 'utf8').trim().split('\n');
      const lastOld = Number(/tick (\d+)/.exec(oldLines[oldLines.length - 1]!)?.[1]);
      check(firstNew > lastOld, `new file starts at tick ${firstNew}, the rotated one ended at ${lastOld}`);
      check(statSync(path).size > 0, 'new log file is empty');
    },
  },
];
