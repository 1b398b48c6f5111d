// safetensors files: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}, then raw
// little-endian tensor bytes. Tensors are read by offset, so a multi-GB file never becomes one Buffer.
import fs from 'node:fs';
import path from 'node:path';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<StDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface TensorInfo {
  name: string;
  dtype: StDType;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The largest header we accept; real headers are KBs, this only guards against garbage lengths. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsFile {
  private constructor(
    readonly file: string,
    private fd: number | null,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly dataStart: number,
  ) {}

  static open(file: string): SafetensorsFile {
    const fail = (msg: string): never => {
      throw new SafetensorsError(`${file}: ${msg}`);
    };
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new SafetensorsError(`${file}: cannot open (${(e as Error).message})`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < 8) fail(`file is ${size} bytes, too short for a safetensors header`);
      const lenBuf = Buffer.alloc(8);
      fs.readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > size - 8) fail(`header length ${headerLen} exceeds the file size (${size} bytes)`);
      if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is implausibly large`);
      const headerBuf = Buffer.alloc(headerLen);
      fs.readSync(fd, headerBuf, 0, headerLen, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch (e) {
        return fail(`header is not valid JSON (${(e as Error).message})`);
      }
      if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
      const dataStart = 8 + headerLen;
      const dataSize = size - dataStart;
      const meta: Record<string, string> = {};
      const tensors = new Map<string, TensorInfo>();
      for (const [name, raw] of Object.entries(header)) {
        if (name === '__metadata__') {
          if (typeof raw !== 'object' || raw === null) fail('__metadata__ must be an object of strings');
          for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
            if (typeof v !== 'string') fail(`__metadata__.${k} must be a string`);
            meta[k] = v as string;
          }
          continue;
        }
        const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
        if (typeof t !== 'object' || t === null) fail(`tensor '${name}': entry is not an object`);
        if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES))
          fail(
            `tensor '${name}': unknown dtype ${JSON.stringify(t.dtype)} (known: ` +
              `${Object.keys(DTYPE_BYTES).join(', ')})`,
          );
        if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0))
          fail(`tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
        const off = t.data_offsets;
        if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isInteger(x) && x >= 0))
          fail(`tensor '${name}': data_offsets must be [begin, end], got ${JSON.stringify(off)}`);
        const [begin, end] = off as [number, number];
        const dtype = t.dtype as StDType;
        const shape = t.shape as number[];
        const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
        if (end < begin) fail(`tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
        if (end - begin !== expected)
          fail(`tensor '${name}': ${end - begin} bytes for ${dtype}[${shape.join(', ')}], expected ${expected}`);
        if (end > dataSize)
          fail(`tensor '${name}': data_offsets [${begin}, ${end}] run past the end of the data (${dataSize} bytes)`);
        tensors.set(name, { name, dtype, shape, begin, end });
      }
      // As the format's reference reader: tensors tile the data section exactly, in offset order, with
      // no gap, no overlap and nothing after the last one (a wrong header length shows up here).
      const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
      let covered = 0;
      for (const t of sorted) {
        if (t.begin > covered)
          fail(`tensor '${t.name}' starts at byte ${t.begin} of the data, leaving a gap after byte ${covered}`);
        if (t.begin < covered)
          fail(
            `tensor '${t.name}' [${t.begin}, ${t.end}] overlaps the tensor before it, which ends at byte ${covered}`,
          );
        covered = t.end;
      }
      if (covered !== dataSize)
        fail(
          `the tensors cover ${covered} bytes of data but the file holds ${dataSize} after the ${headerLen}-byte ` +
            `header (a wrong header length, or trailing bytes)`,
        );
      return new SafetensorsFile(file, fd, tensors, meta, dataStart);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.file}: no tensor named '${name}'`);
    return t;
  }

  /** The tensor's raw bytes, in a fresh aligned buffer. */
  readBytes(name: string): Buffer {
    if (this.fd === null) throw new SafetensorsError(`${this.file}: file is closed`);
    const t = this.info(name);
    const n = t.end - t.begin;
    const buf = Buffer.allocUnsafeSlow(n); // own ArrayBuffer at offset 0: safe to view as any typed array
    let done = 0;
    while (done < n) {
      const r = fs.readSync(this.fd, buf, done, Math.min(n - done, 1 << 30), this.dataStart + t.begin + done);
      if (r === 0) throw new SafetensorsError(`${this.file}: tensor '${name}' is truncated`);
      done += r;
    }
    return buf;
  }

  /** A float tensor (F64/F32/F16/BF16) converted to float32. */
  readFloat32(name: string): Float32Array {
    const t = this.info(name);
    const b = this.readBytes(name);
    const count = t.shape.reduce((a, c) => a * c, 1);
    switch (t.dtype) {
      case 'F32':
        return new Float32Array(b.buffer, b.byteOffset, count);
      case 'F16':
        return f16ToF32(new Uint16Array(b.buffer, b.byteOffset, count));
      case 'BF16':
        return bf16ToF32(new Uint16Array(b.buffer, b.byteOffset, count));
      case 'F64':
        return Float32Array.from(new Float64Array(b.buffer, b.byteOffset, count));
      default:
        throw new SafetensorsError(`${this.file}: tensor '${name}' is ${t.dtype}, not a float tensor`);
    }
  }

  /** An integer tensor (I64/I32/I16/I8/U8/BOOL) as int64. */
  readInt64(name: string): BigInt64Array {
    const t = this.info(name);
    const b = this.readBytes(name);
    const count = t.shape.reduce((a, c) => a * c, 1);
    switch (t.dtype) {
      case 'I64':
        return new BigInt64Array(b.buffer, b.byteOffset, count);
      case 'I32':
        return BigInt64Array.from(new Int32Array(b.buffer, b.byteOffset, count), (x) => BigInt(x));
      case 'I16':
        return BigInt64Array.from(new Int16Array(b.buffer, b.byteOffset, count), (x) => BigInt(x));
      case 'I8':
        return BigInt64Array.from(new Int8Array(b.buffer, b.byteOffset, count), (x) => BigInt(x));
      case 'U8':
      case 'BOOL':
        return BigInt64Array.from(new Uint8Array(b.buffer, b.byteOffset, count), (x) => BigInt(x));
      default:
        throw new SafetensorsError(`${this.file}: tensor '${name}' is ${t.dtype}, not an integer tensor`);
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

// ------------------------------------------------------------------ writing

export interface TensorToWrite {
  /** Stored dtype; Float32Array data is converted to F16/BF16 when asked. Default from the array. */
  dtype?: StDType;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array | Int8Array | Int16Array;
}

function defaultDtype(d: TensorToWrite['data']): StDType {
  if (d instanceof Float32Array) return 'F32';
  if (d instanceof Float64Array) return 'F64';
  if (d instanceof BigInt64Array) return 'I64';
  if (d instanceof Int32Array) return 'I32';
  if (d instanceof Int16Array) return 'I16';
  if (d instanceof Int8Array) return 'I8';
  if (d instanceof Uint16Array) throw new SafetensorsError('Uint16Array data needs an explicit dtype (F16 or BF16)');
  return 'U8';
}

function encodeTensor(name: string, t: TensorToWrite): { dtype: StDType; bytes: Uint8Array } {
  const dtype = t.dtype ?? defaultDtype(t.data);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n)
    throw new SafetensorsError(`tensor '${name}': ${t.data.length} elements for shape [${t.shape.join(', ')}]`);
  let data: TensorToWrite['data'] = t.data;
  if (t.data instanceof Float32Array && dtype === 'F16') data = f32ToF16(t.data);
  else if (t.data instanceof Float32Array && dtype === 'BF16') data = f32ToBf16(t.data);
  else if (t.data instanceof Float32Array && dtype === 'F64') data = Float64Array.from(t.data);
  if (data.byteLength !== n * DTYPE_BYTES[dtype])
    throw new SafetensorsError(`tensor '${name}': ${data.constructor.name} cannot be stored as ${dtype}`);
  return { dtype, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Writes `file` atomically (temp file in the same folder, fsync, rename): a crash never leaves half a file. */
export function writeSafetensors(
  file: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const encoded = Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape, ...encodeTensor(name, t) }));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  for (const e of encoded) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.byteLength] };
    off += e.bytes.byteLength;
  }
  let h = Buffer.from(JSON.stringify(header), 'utf8');
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]); // pad with spaces to 8-byte alignment
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeAtomic(file, (fd) => {
    writeAll(fd, len);
    writeAll(fd, h);
    for (const e of encoded) writeAll(fd, e.bytes);
  });
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30));
}

/** Runs `write` on a temp file next to `file`, then fsyncs and renames it into place. */
export function writeAtomic(file: string, write: (fd: number) => void): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    write(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function writeTextAtomic(file: string, text: string): void {
  writeAtomic(file, (fd) => writeAll(fd, Buffer.from(text, 'utf8')));
}
