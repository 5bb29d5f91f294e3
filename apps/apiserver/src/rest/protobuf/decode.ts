// Kubernetes' protobuf bodies (`application/vnd.kubernetes.protobuf`, which kubectl 1.33's
// typed clients send) read back as the JSON object the JSON path would have received, so
// they flow through the same create/update path (defaults, validation, admission).
// A body is the magic `k8s\0` and a runtime.Unknown {typeMeta, raw, contentEncoding,
// contentType}; `raw` is the object's message, decoded field by field from tables.ts.
// Go's generated marshallers write every non-pointer field, zero or not, so zero values
// are dropped unless the table marks the field as one whose zero means something (`?`);
// a field number the table does not know is refused, never dropped in silence.
import { ApiError, ApiErrors } from '@keel/api';
import { MESSAGES } from './tables';
import { WireReader, type WireField } from './wire';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

type Scalar = 's' | 'i32' | 'i64' | 'b' | 'y';
type ValueType = { scalar: Scalar } | { message: string };
interface FieldSpec {
  number: number;
  json: string;
  keepZero: boolean;
  inline: boolean;
  repeated: boolean;
  type: ValueType;
  /** For a map: the key type (the value type is `type`). */
  mapKey?: Scalar;
}

const SCALARS = new Set<string>(['s', 'i32', 'i64', 'b', 'y']);
const valueType = (t: string): ValueType => (SCALARS.has(t) ? { scalar: t as Scalar } : { message: t });

function parseField(text: string): FieldSpec {
  const [num, nameFlags, type] = text.split(' ') as [string, string, string];
  const name = nameFlags.replace(/[?^]+$/, '');
  const flags = nameFlags.slice(name.length);
  const spec: FieldSpec = { number: Number(num), json: name, keepZero: flags.includes('?'), inline: flags.includes('^'), repeated: false, type: { scalar: 's' } };
  const map = /^\{(\w+):(.+)\}$/.exec(type);
  if (map) {
    spec.mapKey = map[1] as Scalar;
    spec.type = valueType(map[2]!);
  } else if (type.startsWith('[]')) {
    spec.repeated = true;
    spec.type = valueType(type.slice(2));
  } else spec.type = valueType(type);
  return spec;
}

const parsed = new Map<string, Map<number, FieldSpec>>();
/** A message's fields by number, parsed from its table row on first use. */
function fieldsOf(message: string): Map<number, FieldSpec> | undefined {
  let fields = parsed.get(message);
  if (!fields) {
    const row = MESSAGES[message];
    if (row === undefined) return undefined;
    fields = new Map(row.split('|').filter(Boolean).map((f) => {
      const spec = parseField(f);
      return [spec.number, spec] as const;
    }));
    parsed.set(message, fields);
  }
  return fields;
}

/** Whether a table describes this message (`core.v1.Pod`). */
export function knowsMessage(message: string): boolean {
  return MESSAGES[message] !== undefined;
}

const bad = (path: string, message: string) => ApiErrors.badRequest(`protobuf: ${path ? `${path}: ` : ''}${message}`);

/** The JSON form of one message of the tables (`core.v1.Container`). */
export function decodeMessage(message: string, bytes: Uint8Array, path = ''): unknown {
  const special = SPECIAL[message];
  if (special) return special(bytes, path);
  const fields = fieldsOf(message);
  if (!fields) throw bad(path, `no field table for message ${message}`);
  // Gather first: a repeated field may come in pieces, an embedded message in several parts
  // that protobuf merges (concatenating them is that merge).
  const values = new Map<number, WireField[]>();
  const reader = new WireReader(bytes, (m) => bad(path, `${m} in ${message}`));
  for (let f = reader.next(); f; f = reader.next()) {
    if (!fields.has(f.number)) {
      throw bad(path, `field number ${f.number} of ${message} is not known to this server (send JSON instead)`);
    }
    const list = values.get(f.number);
    if (list) list.push(f);
    else values.set(f.number, [f]);
  }
  const out: Record<string, unknown> = {};
  for (const spec of fields.values()) {
    const got = values.get(spec.number);
    if (!got) continue;
    const at = path ? `${path}.${spec.json}` : spec.json;
    if (spec.mapKey) {
      const map: Record<string, unknown> = {};
      for (const entry of got) {
        const [key, value] = decodeMapEntry(entry, spec, message, at);
        map[key] = value;
      }
      out[spec.json] = map;
    } else if (spec.repeated) {
      const items: unknown[] = [];
      for (const f of got) {
        if ('scalar' in spec.type && spec.type.scalar !== 's' && spec.type.scalar !== 'y' && f.wire === 2) {
          // Packed: many varints in one length-delimited field.
          const inner = new WireReader(f.bytes, (m) => bad(at, m));
          while (!inner.done()) items.push(scalarOf(spec.type.scalar, { number: f.number, wire: 0, varint: inner.varint() }, message, at));
        } else items.push(valueOf(spec.type, f, message, `${at}[${items.length}]`));
      }
      out[spec.json] = items;
    } else if ('message' in spec.type) {
      const parts = got.map((f) => lengthDelimited(f, message, at));
      const value = decodeMessage(spec.type.message, parts.length === 1 ? parts[0]! : Buffer.concat(parts), at);
      if (value === undefined) continue;
      if (spec.inline) Object.assign(out, value);
      else out[spec.json] = value;
    } else {
      const value = scalarOf(spec.type.scalar, got.at(-1)!, message, at);
      if (spec.keepZero || !isZero(value)) out[spec.json] = value;
    }
  }
  return out;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function lengthDelimited(f: WireField, message: string, path: string): Uint8Array {
  if (f.wire !== 2) throw bad(path, `field ${f.number} of ${message} has wire type ${f.wire}, expected length-delimited (2)`);
  return f.bytes;
}

function valueOf(type: ValueType, f: WireField, message: string, path: string): unknown {
  if ('message' in type) return decodeMessage(type.message, lengthDelimited(f, message, path), path) ?? null;
  return scalarOf(type.scalar, f, message, path);
}

function scalarOf(type: Scalar, f: WireField, message: string, path: string): string | number | boolean {
  if (type === 's' || type === 'y') {
    const bytes = lengthDelimited(f, message, path);
    return type === 's' ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8') : Buffer.from(bytes).toString('base64');
  }
  if (f.wire !== 0) throw bad(path, `field ${f.number} of ${message} has wire type ${f.wire}, expected varint (0)`);
  if (type === 'b') return f.varint !== 0n;
  return Number(BigInt.asIntN(type === 'i32' ? 32 : 64, f.varint));
}

/** A map entry: a message {1: key, 2: value}; either may be absent (then its zero value). */
function decodeMapEntry(entry: WireField, spec: FieldSpec, message: string, path: string): [string, unknown] {
  const reader = new WireReader(lengthDelimited(entry, message, path), (m) => bad(path, m));
  let key: unknown = spec.mapKey === 's' ? '' : 0;
  let value: unknown;
  for (let f = reader.next(); f; f = reader.next()) {
    if (f.number === 1) key = scalarOf(spec.mapKey!, f, `${message}.${spec.json} entry`, path);
    else if (f.number === 2) value = valueOf(spec.type, f, `${message}.${spec.json} entry`, `${path}[${String(key)}]`);
    else throw bad(path, `field number ${f.number} of a ${message}.${spec.json} map entry is not known`);
  }
  if (value === undefined) value = 'message' in spec.type ? (decodeMessage(spec.type.message, new Uint8Array(0), path) ?? null) : zeroOf(spec.type.scalar);
  return [String(key), value];
}

function zeroOf(type: Scalar): string | number | boolean {
  return type === 's' || type === 'y' ? '' : type === 'b' ? false : 0;
}

/** The plain fields of a small message by number, for the special encodings below. */
function plain(bytes: Uint8Array, path: string, message: string): Map<number, WireField> {
  const out = new Map<number, WireField>();
  const fields = fieldsOf(message)!;
  const reader = new WireReader(bytes, (m) => bad(path, `${m} in ${message}`));
  for (let f = reader.next(); f; f = reader.next()) {
    if (!fields.has(f.number)) throw bad(path, `field number ${f.number} of ${message} is not known to this server (send JSON instead)`);
    out.set(f.number, f);
  }
  return out;
}
const int = (f: WireField | undefined, message: string, path: string, bits: 'i32' | 'i64' = 'i64') => (f ? (scalarOf(bits, f, message, path) as number) : 0);
const text = (f: WireField | undefined, message: string, path: string) => (f ? (scalarOf('s', f, message, path) as string) : '');

/** RFC 3339 in UTC with `digits` fractional digits, as Go's metav1.Time (0) and MicroTime (6) write it. */
function rfc3339(seconds: number, nanos: number, digits: 0 | 6, path: string): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw bad(path, `time of ${seconds} seconds is out of range`);
  const base = date.toISOString().slice(0, 19);
  return digits === 0 ? `${base}Z` : `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/** A Go time.Duration string (`1h0m0s`, `1.5s`, `300ms`), as metav1.Duration writes it. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(ns);
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trimFraction(n / size)}${unit}`;
  }
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = trimFraction(n / 1e9);
  return `${sign}${h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m` : ''}${s}s`;
}
const trimFraction = (x: number) => String(Number(x.toFixed(9)));

/** Messages whose JSON form is not an object of their fields. */
const SPECIAL: Record<string, (bytes: Uint8Array, path: string) => unknown> = {
  'meta.v1.Time': (b, p) => {
    const f = plain(b, p, 'meta.v1.Time');
    const seconds = int(f.get(1), 'meta.v1.Time', p);
    const nanos = int(f.get(2), 'meta.v1.Time', p, 'i32');
    // The zero time is how a Go struct writes "not set" (`creationTimestamp: null`).
    return seconds === 0 && nanos === 0 ? undefined : rfc3339(seconds, nanos, 0, p);
  },
  'meta.v1.MicroTime': (b, p) => {
    const f = plain(b, p, 'meta.v1.MicroTime');
    const seconds = int(f.get(1), 'meta.v1.MicroTime', p);
    const nanos = int(f.get(2), 'meta.v1.MicroTime', p, 'i32');
    return seconds === 0 && nanos === 0 ? undefined : rfc3339(seconds, nanos, 6, p);
  },
  'meta.v1.Duration': (b, p) => goDuration(int(plain(b, p, 'meta.v1.Duration').get(1), 'meta.v1.Duration', p)),
  'resource.Quantity': (b, p) => text(plain(b, p, 'resource.Quantity').get(1), 'resource.Quantity', p),
  'intstr.IntOrString': (b, p) => {
    const f = plain(b, p, 'intstr.IntOrString');
    return int(f.get(1), 'intstr.IntOrString', p) === 1 ? text(f.get(3), 'intstr.IntOrString', p) : int(f.get(2), 'intstr.IntOrString', p, 'i32');
  },
  'meta.v1.Verbs': (b, p) => stringList(b, p, 'meta.v1.Verbs'),
  'authentication.v1.ExtraValue': (b, p) => stringList(b, p, 'authentication.v1.ExtraValue'),
  'authorization.v1.ExtraValue': (b, p) => stringList(b, p, 'authorization.v1.ExtraValue'),
  'meta.v1.FieldsV1': (b, p) => embedded(plain(b, p, 'meta.v1.FieldsV1').get(1), 'meta.v1.FieldsV1', p) ?? {},
  'runtime.RawExtension': (b, p) => embedded(plain(b, p, 'runtime.RawExtension').get(1), 'runtime.RawExtension', p) ?? null,
};

function stringList(bytes: Uint8Array, path: string, message: string): string[] {
  const reader = new WireReader(bytes, (m) => bad(path, m));
  const out: string[] = [];
  for (let f = reader.next(); f; f = reader.next()) {
    if (f.number !== 1) throw bad(path, `field number ${f.number} of ${message} is not known to this server`);
    out.push(scalarOf('s', f, message, path) as string);
  }
  return out;
}

/** Raw bytes holding an object: JSON, or a nested protobuf body with its own magic. */
function embedded(f: WireField | undefined, message: string, path: string): unknown {
  if (!f) return undefined;
  const raw = lengthDelimited(f, message, path);
  if (raw.length === 0) return undefined;
  if (hasMagic(raw)) return decodeKubernetesProtobuf(raw);
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) as unknown;
  } catch (err) {
    throw bad(path, `${message} holds neither JSON nor protobuf: ${(err as Error).message}`);
  }
}

function hasMagic(raw: Uint8Array): boolean {
  return raw.length >= 4 && MAGIC.every((b, i) => raw[i] === b);
}

/** API group → the table package of its v1 messages. */
const PACKAGES: Record<string, string> = {
  '': 'core',
  apps: 'apps',
  batch: 'batch',
  'discovery.k8s.io': 'discovery',
  'coordination.k8s.io': 'coordination',
  'rbac.authorization.k8s.io': 'rbac',
  'scheduling.k8s.io': 'scheduling',
  'authentication.k8s.io': 'authentication',
  'authorization.k8s.io': 'authorization',
  policy: 'policy',
  autoscaling: 'autoscaling',
  'meta.k8s.io': 'meta',
};

/** The table message for an apiVersion and kind, if any (options kinds live in meta/v1 under every version). */
export function messageFor(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const pkg = PACKAGES[group];
  const own = pkg && version === 'v1' ? `${pkg}.v1.${kind}` : undefined;
  if (own && knowsMessage(own)) return own;
  if (kind.endsWith('Options') && knowsMessage(`meta.v1.${kind}`)) return `meta.v1.${kind}`;
  return undefined;
}

/** A whole `application/vnd.kubernetes.protobuf` body as the JSON object it stands for. */
export function decodeKubernetesProtobuf(raw: Uint8Array): Record<string, unknown> {
  if (!hasMagic(raw)) throw ApiErrors.badRequest('protobuf: the body does not start with the k8s magic bytes');
  const unknown = plain(raw.subarray(4), '', 'runtime.Unknown');
  const typeMeta = unknown.get(1) ? plain(lengthDelimited(unknown.get(1)!, 'runtime.Unknown', ''), '', 'runtime.TypeMeta') : new Map<number, WireField>();
  const apiVersion = text(typeMeta.get(1), 'runtime.TypeMeta', 'apiVersion');
  const kind = text(typeMeta.get(2), 'runtime.TypeMeta', 'kind');
  const encoding = text(unknown.get(3), 'runtime.Unknown', 'contentEncoding');
  if (encoding !== '') throw new ApiError('UnsupportedMediaType', `protobuf: content encoding ${JSON.stringify(encoding)} is not supported`);
  const message = messageFor(apiVersion, kind);
  if (!message) {
    throw new ApiError('UnsupportedMediaType', `protobuf bodies of ${apiVersion || '<no apiVersion>'} ${kind || '<no kind>'} are not readable by this server; send application/json`);
  }
  const body = unknown.get(2) ? lengthDelimited(unknown.get(2)!, 'runtime.Unknown', '') : new Uint8Array(0);
  const object = decodeMessage(message, body) as Record<string, unknown>;
  return { apiVersion, kind, ...object };
}
