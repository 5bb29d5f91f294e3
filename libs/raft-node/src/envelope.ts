// What the host adds around the application's bytes in the log and in snapshots, so it
// can tell which committed entry answers which proposal, and carry member addresses:
//  - a normal entry proposed through a host: 'K', the proposing host's 8-byte nonce, an
//    8-byte sequence number, then the application's data. Other normal entries (the empty
//    entry each new leader appends) carry no application data;
//  - a conf change's context: JSON with the member's address and the proposal's id;
//  - a snapshot's data: a 4-byte length, JSON with the member addresses, then the
//    application's snapshot.

const MARK = 0x4b; // 'K'
const HEADER = 17;

export interface ProposalId {
  /** Unique per host instance, so ids never collide across restarts. */
  readonly nonce: Buffer;
  readonly seq: number;
}

export function encodeProposal(id: ProposalId, data: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(HEADER + data.length);
  out[0] = MARK;
  id.nonce.copy(out, 1, 0, 8);
  out.writeDoubleBE(id.seq, 9);
  out.set(data, HEADER);
  return out;
}

/** The proposal in a normal entry's data, or undefined for an entry with no application data. */
export function decodeProposal(data: Uint8Array): { nonce: Buffer; seq: number; data: Uint8Array } | undefined {
  if (data.length < HEADER || data[0] !== MARK) return undefined;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { nonce: buf.subarray(1, 9), seq: buf.readDoubleBE(9), data: data.subarray(HEADER) };
}

export interface ConfChangeContext {
  readonly address?: string;
  /** The proposing host's nonce (hex) and sequence number. */
  readonly nonce?: string;
  readonly seq?: number;
}

export function encodeConfContext(ctx: ConfChangeContext): Uint8Array {
  return Buffer.from(JSON.stringify(ctx));
}

export function decodeConfContext(data: Uint8Array | undefined): ConfChangeContext {
  if (!data || data.length === 0) return {};
  try {
    return JSON.parse(Buffer.from(data).toString()) as ConfChangeContext;
  } catch {
    return {};
  }
}

export interface SnapshotEnvelope {
  /** Member addresses as of the snapshot's index. */
  readonly members: ReadonlyMap<number, string>;
  readonly data: Uint8Array;
}

export function encodeSnapshot(env: SnapshotEnvelope): Uint8Array {
  const header = Buffer.from(JSON.stringify({ members: [...env.members] }));
  const out = Buffer.allocUnsafe(4 + header.length + env.data.length);
  out.writeUInt32BE(header.length, 0);
  header.copy(out, 4);
  out.set(env.data, 4 + header.length);
  return out;
}

export function decodeSnapshot(data: Uint8Array): SnapshotEnvelope {
  if (data.length === 0) return { members: new Map(), data };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const len = buf.readUInt32BE(0);
  const header = JSON.parse(buf.subarray(4, 4 + len).toString()) as { members: [number, string][] };
  return { members: new Map(header.members), data: data.subarray(4 + len) };
}
