// A follower for the Raft benchmark: one member in its own process with LevelDB storage
// and gRPC, applying entries to a state machine that only counts them. Prints one JSON
// line {"ready": ...} once serving; stops on SIGTERM.
import { GrpcTransport, LevelStorage, RaftHost } from '@keel/raft-node';

const [id, dir, listen, bootstrap] = process.argv.slice(2);
if (!id || !dir || !listen || !bootstrap) {
  process.stderr.write('usage: follower ID DIR LISTEN BOOTSTRAP(id=host:port,...)\n');
  process.exit(2);
}
const members = new Map(bootstrap.split(',').map((p) => [Number(p.split('=')[0]), p.split('=')[1]!] as [number, string]));
let applied = 0;
const host = new RaftHost({
  id: Number(id),
  storage: await LevelStorage.open(dir),
  transport: new GrpcTransport({ id: Number(id), listen, peers: members }),
  stateMachine: {
    apply: () => void applied++,
    snapshot: () => Buffer.from(String(applied)),
    restore: (data) => void (applied = Number(Buffer.from(data).toString() || 0)),
  },
  bootstrap: members,
  onFatal: (e) => {
    process.stderr.write(`follower ${id}: ${e.message}\n`);
    process.exit(1);
  },
});
await host.start();
process.stdout.write(`${JSON.stringify({ ready: { id: Number(id), pid: process.pid } })}\n`);
process.on('SIGTERM', () => void host.stop().then(() => process.exit(0)));
