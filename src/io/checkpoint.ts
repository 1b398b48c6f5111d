// Weights of a Hugging Face folder: `model.safetensors`, or shards listed in
// `model.safetensors.index.json` ({"weight_map": {tensor: shard file}}). Tensors are read lazily.
import fs from 'node:fs';
import path from 'node:path';
import {
  SafetensorsError,
  SafetensorsFile,
  type TensorInfo,
  type TensorToWrite,
  writeSafetensors,
  writeTextAtomic,
  DTYPE_BYTES,
} from './safetensors.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export class WeightStore {
  private readonly files = new Map<string, SafetensorsFile>();

  private constructor(
    readonly source: string,
    /** tensor name -> file path */
    private readonly where: ReadonlyMap<string, string>,
  ) {}

  /** Opens a folder (single file or sharded index) or a single .safetensors file. */
  static open(location: string): WeightStore {
    const stat = fs.statSync(location, { throwIfNoEntry: false });
    if (!stat) throw new SafetensorsError(`${location}: no such file or folder`);
    if (stat.isFile()) return WeightStore.fromFiles(location, [location]);
    const single = path.join(location, SINGLE_FILE);
    const index = path.join(location, INDEX_FILE);
    if (fs.existsSync(single)) return WeightStore.fromFiles(location, [single]);
    if (fs.existsSync(index)) return WeightStore.fromIndex(index);
    const present = fs.readdirSync(location);
    const legacy = present.filter((f) => /^pytorch_model.*\.bin$|\.pt$|\.ckpt$|\.h5$/.test(f));
    const hint = legacy.length
      ? ` It holds ${legacy.join(', ')}, a pickle/TensorFlow format revmux does not read (it can run code); convert ` +
        `it with Hugging Face: model.save_pretrained(dir, safe_serialization=True).`
      : '';
    throw new SafetensorsError(`${location}: no ${SINGLE_FILE} or ${INDEX_FILE}.${hint}`);
  }

  private static fromFiles(source: string, files: string[]): WeightStore {
    const where = new Map<string, string>();
    const store = new WeightStore(source, where);
    for (const f of files) {
      const st = SafetensorsFile.open(f);
      store.files.set(f, st);
      for (const n of st.names()) {
        if (where.has(n))
          throw new SafetensorsError(`${source}: tensor '${n}' appears in both ${where.get(n)} and ${f}`);
        where.set(n, f);
      }
    }
    return store;
  }

  private static fromIndex(indexFile: string): WeightStore {
    let parsed: { weight_map?: Record<string, string> };
    try {
      parsed = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
    } catch (e) {
      throw new SafetensorsError(`${indexFile}: not valid JSON (${(e as Error).message})`);
    }
    const map = parsed.weight_map;
    if (!map || typeof map !== 'object') throw new SafetensorsError(`${indexFile}: missing "weight_map"`);
    const dir = path.dirname(indexFile);
    const where = new Map<string, string>();
    for (const [name, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || shard.includes('..') || path.isAbsolute(shard))
        throw new SafetensorsError(
          `${indexFile}: weight_map["${name}"] must be a file name in the same folder, got ${JSON.stringify(shard)}`,
        );
      where.set(name, path.join(dir, shard));
    }
    const store = new WeightStore(path.dirname(indexFile), where);
    for (const shard of new Set(where.values())) {
      if (!fs.existsSync(shard)) throw new SafetensorsError(`${indexFile}: shard ${path.basename(shard)} is missing`);
      const st = SafetensorsFile.open(shard);
      store.files.set(shard, st);
      for (const [name, f] of where)
        if (f === shard && !st.tensors.has(name))
          throw new SafetensorsError(
            `${indexFile}: '${name}' is mapped to ${path.basename(shard)}, which does not contain it`,
          );
    }
    return store;
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  private fileFor(name: string): SafetensorsFile {
    const f = this.where.get(name);
    if (!f) throw new SafetensorsError(`${this.source}: no tensor named '${name}'`);
    return this.files.get(f)!;
  }

  info(name: string): TensorInfo {
    return this.fileFor(name).info(name);
  }

  readFloat32(name: string): Float32Array {
    return this.fileFor(name).readFloat32(name);
  }

  readInt64(name: string): BigInt64Array {
    return this.fileFor(name).readInt64(name);
  }

  metadata(): Record<string, string> {
    return Object.assign({}, ...[...this.files.values()].map((f) => f.metadata));
  }

  close(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }
}

/**
 * Writes tensors into `dir` as Hugging Face does: one `model.safetensors` when it fits in
 * `maxShardBytes`, else `model-0000i-of-0000n.safetensors` shards plus the index.
 */
export function writeWeights(
  dir: string,
  tensors: Record<string, TensorToWrite>,
  opts: { maxShardBytes?: number; metadata?: Record<string, string> } = {},
): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const max = opts.maxShardBytes ?? 5 * 1024 ** 3;
  const shards: Record<string, TensorToWrite>[] = [{}];
  let size = 0;
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n =
      t.shape.reduce((a, b) => a * b, 1) *
      DTYPE_BYTES[
        t.dtype ?? (t.data instanceof Float32Array ? 'F32' : t.data instanceof BigInt64Array ? 'I64' : 'F32')
      ];
    if (size > 0 && size + n > max) {
      shards.push({});
      size = 0;
    }
    shards[shards.length - 1][name] = t;
    size += n;
    total += n;
  }
  if (shards.length === 1) {
    writeSafetensors(path.join(dir, SINGLE_FILE), tensors, opts.metadata);
    return [SINGLE_FILE];
  }
  const pad = (i: number) => String(i).padStart(5, '0');
  const names = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const weightMap: Record<string, string> = {};
  shards.forEach((s, i) => {
    writeSafetensors(path.join(dir, names[i]), s, opts.metadata);
    for (const k of Object.keys(s)) weightMap[k] = names[i];
  });
  writeTextAtomic(
    path.join(dir, INDEX_FILE),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n',
  );
  return [...names, INDEX_FILE];
}
