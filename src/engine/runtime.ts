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

/**
 * A session built from a model file whose weights sit in an external-data file beside it. Measured at
 * BERT-base shape (bench:memory issue): building from an in-memory protobuf costs about 0.8 GB more per
 * process at start-up (1,266 against 473 MB for one session) than building from files. The files are
 * temporary: onnxruntime has read them once the session exists.
 */
async function createFromFiles(graph: Graph, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-session-'));
  try {
    const { model, data } = graph.encodeWithExternalData('weights.bin');
    const fd = fs.openSync(path.join(dir, 'weights.bin'), 'w');
    try {
      for (const c of data) fs.writeSync(fd, c);
    } finally {
      fs.closeSync(fd);
    }
    fs.writeFileSync(path.join(dir, 'model.onnx'), model);
    return await ort.InferenceSession.create(path.join(dir, 'model.onnx'), options);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export class Session {
  private constructor(
    readonly graph: GraphSignature,
    private readonly ortSession: ort.InferenceSession,
  ) {}

  static async create(graph: Graph, opts: SessionOptions = {}): Promise<Session> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.threads ?? defaultThreads(),
      interOpNumThreads: 1,
      graphOptimizationLevel: opts.optimization ?? 'all',
      executionMode: 'sequential',
    };
    const weightBytes = graph.initializers.reduce((a, i) => a + i.data.byteLength, 0);
    if (!(opts.fromFiles ?? weightBytes >= FROM_FILE_BYTES)) return new Session(signatureOf(graph), await ort.InferenceSession.create(graph.encode(), options));
    return new Session(signatureOf(graph), await createFromFiles(graph, options));
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
      if (f === undefined) throw new Error(`graph '${this.graph.name}': missing feed for input '${input.name}' ${formatShape(input.shape)}`);
      const t = toHost(f, input.shape, input.name);
      const dt = dtypeOfArray(t.data);
      if (dt !== input.dtype) throw new TypeError(`feed '${input.name}': expected ${input.dtype}, got ${dt}`);
      if (t.shape.length !== input.shape.length) throw new RangeError(`feed '${input.name}': expected rank ${input.shape.length} ${formatShape(input.shape)}, got ${formatShape(t.shape)}`);
      input.shape.forEach((d, i) => {
        const actual = t.shape[i];
        if (typeof d === 'number') {
          if (d !== actual) throw new RangeError(`feed '${input.name}': axis ${i} must be ${d}, got ${actual} (shape ${formatShape(t.shape)})`);
        } else {
          const prev = bound.get(d);
          if (prev && prev.size !== actual) throw new RangeError(`feed '${input.name}': dimension '${d}' is ${actual} here but ${prev.size} in '${prev.by}'`);
          bound.set(d, { size: actual, by: input.name });
        }
      });
      const n = t.shape.reduce((p, q) => p * q, 1);
      if (t.data.length !== n) throw new RangeError(`feed '${input.name}': ${t.data.length} elements for shape ${formatShape(t.shape)}`);
      ortFeeds[input.name] = new ort.Tensor(dt, t.data as never, t.shape); // DType names are onnxruntime's
    }
    for (const k of Object.keys(feeds)) if (!this.graph.inputs.some((i) => i.name === k)) throw new Error(`feed '${k}' is not an input of graph '${this.graph.name}' (inputs: ${this.graph.inputs.map((i) => i.name).join(', ')})`);
    const names = outputs ?? this.outputNames;
    for (const n of names) if (!this.outputNames.includes(n)) throw new Error(`'${n}' is not an output of graph '${this.graph.name}' (outputs: ${this.outputNames.join(', ')})`);
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
  if (!declared.every((d) => typeof d === 'number')) throw new Error(`feed '${name}': input has symbolic dims ${formatShape(declared)}; pass { data, shape }`);
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
