// onnxruntime-node sessions for built graphs.
//
// compile(graph) creates one InferenceSession per graph (cached on the graph object and its
// version), with intra-op threads defaulting to the machine's cores. run() validates feeds against
// the graph's declared inputs, binding symbolic dims consistently, so a wrong feed names the input
// and the dimension instead of failing deep inside onnxruntime.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { type AnyTypedArray, type DType, dtypeOfArray } from './dtype.js';
import { ArrayCache } from './fingerprint.js';
import type { Graph } from './graph.js';
import { type Dim, formatShape } from './shape.js';

export interface HostTensor {
  data: AnyTypedArray;
  shape: number[];
}

/** A feed: a HostTensor, or a bare typed array for an input whose shape is fully fixed. */
export type Feed = HostTensor | AnyTypedArray;

export interface SessionOptions {
  /** Intra-op threads; default: all cores of this machine. */
  threads?: number;
  /** onnxruntime graph optimisation level; default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Build from temporary model + weight files instead of a buffer (default: when the weights pass 64 MB). */
  fromFiles?: boolean;
  /**
   * Let onnxruntime repack constant weights for its GEMM kernels: a private copy per session. Default: on
   * for sessions built from a buffer, off for sessions built from files (unless REVMUX_PREPACK=1), whose
   * weights are then read in place from the shared, memory-mapped weights file (issue #17). Measured at
   * BERT-base shape: without prepacking fp32 runs 9-11% slower, int8 2-5%
   * (results/memory-prepack-throughput-base.json).
   */
  prepack?: boolean;
}

/**
 * What a session checks feeds against: the graph's name, inputs and outputs, as plain data. A session
 * keeps this rather than the graph, whose initializers view the model's weight arrays: once every
 * session exists, the weights live in onnxruntime alone and the JavaScript copies can be freed.
 */
export interface GraphSignature {
  name: string;
  inputs: { name: string; dtype: DType; shape: Dim[] }[];
  outputs: { name: string; dtype: DType; shape: Dim[] }[];
}

const signatureOf = (g: Graph): GraphSignature => ({
  name: g.name,
  inputs: g.inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] })),
  outputs: g.outputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] })),
});

/** Graphs with at least this many bytes of weights are loaded from files rather than from a buffer. */
const FROM_FILE_BYTES = 64 * 1024 ** 2;

/** Offsets in the weights file are multiples of this (the largest allocation granularity), so each tensor maps. */
const ALIGN = 65536;

/**
 * The weights of every session built from files, one file per process (deleted at exit). Each array is
 * written once: sessions that read the same weights (SISO, every N, every split l) point onnxruntime at the
 * same bytes of the same file, which it maps instead of copying. Measured at BERT-base shape (issue #17):
 * building from an in-memory protobuf cost about 0.8 GB more at start-up than from files (1,266 against
 * 473 MB for one session); one file per session still held one copy per session.
 */
class SharedWeightsFile {
  private dir: string | null = null;
  private fd = -1;
  private size = 0;
  private models = 0;
  private readonly offsets = new ArrayCache<AnyTypedArray, number>();

  /** Where `data` is in the file, appending it (aligned) the first time it is seen. */
  place(bytes: Uint8Array, data: AnyTypedArray): { location: string; offset: number } {
    const offset = this.offsets.get(data, () => {
      this.open();
      const at = Math.ceil(this.size / ALIGN) * ALIGN;
      fs.writeSync(this.fd, bytes, 0, bytes.byteLength, at);
      this.size = at + bytes.byteLength;
      return at;
    });
    return { location: 'weights.bin', offset };
  }

  get bytes(): number {
    return this.size;
  }

  /** A fresh model file name next to the weights file. */
  modelPath(): string {
    this.open();
    return path.join(this.dir!, `model-${this.models++}.onnx`);
  }

  private open(): void {
    if (this.dir) return;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-weights-'));
    this.fd = fs.openSync(path.join(this.dir, 'weights.bin'), 'w+');
    const dir = this.dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
}

const sharedWeights = new SharedWeightsFile();

/** Bytes written so far to this process's shared weights file (diagnostics and tests). */
export function sharedWeightsBytes(): number {
  return sharedWeights.bytes;
}

/**
 * A graph encoded for onnxruntime, not yet a session: the protobuf bytes, or (large graphs) a model file
 * whose weights sit in the process's shared weights file. It holds no reference to the graph, so a caller
 * can let the graph and its host weights go before onnxruntime reads the weights (see ServeEngine.load):
 * otherwise both are resident at once while the session is built, the start-up peak.
 */
export interface EncodedSession {
  readonly signature: GraphSignature;
  readonly options: ort.InferenceSession.SessionOptions;
  readonly model: Uint8Array | { file: string };
}

export function encodeSession(graph: Graph, opts: SessionOptions = {}): EncodedSession {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    graphOptimizationLevel: opts.optimization ?? 'all',
    executionMode: 'sequential',
  };
  const weightBytes = graph.liveInitializers().reduce((a, i) => a + i.data.byteLength, 0);
  const fromFiles = opts.fromFiles ?? weightBytes >= FROM_FILE_BYTES;
  const prepack = opts.prepack ?? (!fromFiles || process.env.REVMUX_PREPACK === '1');
  if (!prepack) options.extra = { session: { disable_prepacking: '1' } };
  const signature = signatureOf(graph);
  if (!fromFiles) return { signature, options, model: graph.encode() };
  const place = (bytes: Uint8Array, data: AnyTypedArray) => sharedWeights.place(bytes, data);
  const file = sharedWeights.modelPath();
  fs.writeFileSync(file, graph.encode({ external: { minBytes: 1024, place } }));
  return { signature, options, model: { file } };
}

export class Session {
  private constructor(
    readonly graph: GraphSignature,
    private readonly ortSession: ort.InferenceSession,
    /** Built from the shared weights file (large graphs) rather than from one protobuf buffer. */
    readonly fromFiles: boolean,
  ) {}

  static create(graph: Graph, opts: SessionOptions = {}): Promise<Session> {
    return Session.fromEncoded(encodeSession(graph, opts));
  }

  /** The session of an encoded graph; a model file is removed once onnxruntime has read it. */
  static async fromEncoded(e: EncodedSession): Promise<Session> {
    if (e.model instanceof Uint8Array)
      return new Session(e.signature, await ort.InferenceSession.create(e.model, e.options), false);
    try {
      return new Session(e.signature, await ort.InferenceSession.create(e.model.file, e.options), true);
    } finally {
      fs.rmSync(e.model.file, { force: true });
    }
  }

  get outputNames(): string[] {
    return this.graph.outputs.map((o) => o.name);
  }

  /** Runs the graph; returns the requested outputs (default: all) as host tensors. */
  async run(feeds: Record<string, Feed>, outputs?: string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    const bound = new Map<string, { size: number; by: string }>();
    for (const input of this.graph.inputs) {
      const f = feeds[input.name];
      if (f === undefined)
        throw new Error(
          `graph '${this.graph.name}': missing feed for input '${input.name}' ${formatShape(input.shape)}`,
        );
      const t = toHost(f, input.shape, input.name);
      const dt = dtypeOfArray(t.data);
      if (dt !== input.dtype) throw new TypeError(`feed '${input.name}': expected ${input.dtype}, got ${dt}`);
      if (t.shape.length !== input.shape.length)
        throw new RangeError(
          `feed '${input.name}': expected rank ${input.shape.length} ${formatShape(input.shape)}, got ` +
            `${formatShape(t.shape)}`,
        );
      input.shape.forEach((d, i) => {
        const actual = t.shape[i];
        if (typeof d === 'number') {
          if (d !== actual)
            throw new RangeError(
              `feed '${input.name}': axis ${i} must be ${d}, got ${actual} (shape ${formatShape(t.shape)})`,
            );
        } else {
          const prev = bound.get(d);
          if (prev && prev.size !== actual)
            throw new RangeError(
              `feed '${input.name}': dimension '${d}' is ${actual} here but ${prev.size} in '${prev.by}'`,
            );
          bound.set(d, { size: actual, by: input.name });
        }
      });
      const n = t.shape.reduce((p, q) => p * q, 1);
      if (t.data.length !== n)
        throw new RangeError(`feed '${input.name}': ${t.data.length} elements for shape ${formatShape(t.shape)}`);
      ortFeeds[input.name] = new ort.Tensor(dt, t.data as never, t.shape); // DType names are onnxruntime's
    }
    for (const k of Object.keys(feeds))
      if (!this.graph.inputs.some((i) => i.name === k))
        throw new Error(
          `feed '${k}' is not an input of graph '${this.graph.name}' (inputs: ` +
            `${this.graph.inputs.map((i) => i.name).join(', ')})`,
        );
    const names = outputs ?? this.outputNames;
    for (const n of names)
      if (!this.outputNames.includes(n))
        throw new Error(
          `'${n}' is not an output of graph '${this.graph.name}' (outputs: ${this.outputNames.join(', ')})`,
        );
    const res = await this.ortSession.run(ortFeeds, names);
    const out: Record<string, HostTensor> = {};
    for (const n of names) {
      const t = res[n];
      out[n] = { data: t.data as AnyTypedArray, shape: t.dims.map(Number) };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.ortSession.release();
  }
}

function toHost(f: Feed, declared: readonly (number | string)[], name: string): HostTensor {
  if ('shape' in f && 'data' in f && !ArrayBuffer.isView(f)) return f as HostTensor;
  if (!declared.every((d) => typeof d === 'number'))
    throw new Error(`feed '${name}': input has symbolic dims ${formatShape(declared)}; pass { data, shape }`);
  return { data: f as AnyTypedArray, shape: declared as number[] };
}

export function defaultThreads(): number {
  const env = Number(process.env.REVMUX_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

const cache = new WeakMap<Graph, { version: number; key: string; session: Promise<Session> }>();

/**
 * The session for `graph`, created on first use and cached by graph identity. Extending the graph
 * afterwards (a new version) creates a fresh session on the next call.
 */
export function compile(graph: Graph, opts: SessionOptions = {}): Promise<Session> {
  const key = JSON.stringify(opts);
  const hit = cache.get(graph);
  if (hit && hit.version === graph.version && hit.key === key) return hit.session;
  const session = Session.create(graph, opts);
  cache.set(graph, { version: graph.version, key, session });
  session.catch(() => cache.delete(graph));
  return session;
}

/** The data of a float32 result, or an error naming it. */
export function float32(t: HostTensor, name = 'tensor'): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new TypeError(`${name} is ${dtypeOfArray(t.data)}, expected float32`);
  return t.data;
}

/** Any result as plain numbers (int64 converted with Number). */
export function toNumbers(t: HostTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}
