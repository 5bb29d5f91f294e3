// The protobuf wire format, read: a message is a run of (field number, wire type) keys each
// followed by its value — a varint (0), 8 bytes (1), a length-prefixed run (2) or 4 bytes (5).
// Groups (3, 4) were retired before Kubernetes existed and are refused.

export type WireField =
  | { number: number; wire: 0; varint: bigint }
  | { number: number; wire: 2; bytes: Uint8Array }
  | { number: number; wire: 1 | 5; bytes: Uint8Array };

export class WireReader {
  private pos = 0;

  /** `fail` builds the error for malformed input (so it can name the message being read). */
  constructor(
    private readonly buf: Uint8Array,
    private readonly fail: (message: string) => Error,
  ) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw this.fail('truncated varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw this.fail('varint longer than 10 bytes');
    }
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw this.fail('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** The next field, or undefined at the end of the message. */
  next(): WireField | undefined {
    if (this.done()) return undefined;
    const key = this.varint();
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (number === 0) throw this.fail('field number 0');
    switch (wire) {
      case 0:
        return { number, wire, varint: this.varint() };
      case 1:
        return { number, wire, bytes: this.take(8) };
      case 2:
        return { number, wire, bytes: this.take(Number(this.varint())) };
      case 5:
        return { number, wire, bytes: this.take(4) };
      default:
        throw this.fail(`wire type ${wire} of field ${number} is not supported`);
    }
  }
}
