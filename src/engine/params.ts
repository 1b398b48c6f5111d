// Named parameter sets: the trainable tensors of a model, kept on the host as Float32Arrays and
// fed to graphs as inputs (so one session serves every step and weights are never re-compiled).
import { grad } from './autodiff.js';
import type { Graph, Value } from './graph.js';
import { type HostTensor, float32 } from './runtime.js';
import { SafetensorsFile, writeSafetensors } from '../io/safetensors.js';

export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  data: Float32Array;
}

export class ParamSet {
  private readonly params = new Map<string, Param>();

  add(name: string, shape: readonly number[], data: Float32Array): Param {
    if (this.params.has(name)) throw new Error(`parameter '${name}' already exists`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n)
      throw new Error(`parameter '${name}': ${data.length} values for shape [${shape.join(', ')}]`);
    const p = { name, shape: [...shape], data };
    this.params.set(name, p);
    return p;
  }

  get(name: string): Param {
    const p = this.params.get(name);
    if (!p) throw new Error(`no parameter named '${name}' (have: ${[...this.params.keys()].join(', ')})`);
    return p;
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  names(): string[] {
    return [...this.params.keys()];
  }

  list(): Param[] {
    return [...this.params.values()];
  }

  /** Total number of scalars. */
  size(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.data.length;
    return n;
  }

  /** Declares every parameter as a trainable graph input named after it. */
  declare(g: Graph): Map<string, Value> {
    const out = new Map<string, Value>();
    for (const p of this.params.values()) out.set(p.name, g.input(p.name, 'float32', p.shape));
    return out;
  }

  /** Every parameter as a constant of the graph instead: inference that never changes them (benchmarks). */
  constants(g: Graph): Map<string, Value> {
    return new Map(this.list().map((p) => [p.name, g.initializer(p.data, p.shape, 'float32', { prefix: p.name })]));
  }

  /** Feeds for a graph built with declare(). */
  feeds(): Record<string, HostTensor> {
    const f: Record<string, HostTensor> = {};
    for (const p of this.params.values()) f[p.name] = { data: p.data, shape: [...p.shape] };
    return f;
  }

  /** Appends d loss / d parameter as outputs `grad.<name>`; `declared` is what declare() returned. */
  outputGradients(loss: Value, declared: Map<string, Value>): void {
    const names = this.names();
    grad(
      loss,
      names.map((n) => declared.get(n)!),
    ).forEach((d, i) => loss.graph.output(`grad.${names[i]}`, d));
  }

  /** The `grad.<name>` outputs of a run of such a graph, by parameter name. */
  gradients(outputs: Record<string, HostTensor>): Map<string, Float32Array> {
    return new Map(this.names().map((n) => [n, float32(outputs[`grad.${n}`])]));
  }

  clone(): ParamSet {
    const c = new ParamSet();
    for (const p of this.params.values()) c.add(p.name, p.shape, p.data.slice());
    return c;
  }

  /** Writes all parameters to a safetensors file (atomically). */
  save(file: string, metadata?: Record<string, string>): void {
    writeSafetensors(
      file,
      Object.fromEntries(this.list().map((p) => [p.name, { shape: [...p.shape], data: p.data }])),
      metadata,
    );
  }

  /**
   * Loads values from a safetensors file into the existing arrays (so arrays shared with a model's
   * weights stay shared); every parameter must be present with the same shape.
   */
  load(file: string): void {
    const st = SafetensorsFile.open(file);
    try {
      const missing = this.names().filter((n) => !st.tensors.has(n));
      const extra = st.names().filter((n) => !this.params.has(n));
      if (missing.length || extra.length)
        throw new Error(
          `${file}: parameters do not match (missing: ${missing.join(', ') || 'none'}; unexpected: ` +
            `${extra.join(', ') || 'none'})`,
        );
      for (const p of this.params.values()) {
        const info = st.info(p.name);
        if (info.shape.join(',') !== p.shape.join(','))
          throw new Error(
            `${file}: '${p.name}' has shape [${info.shape.join(', ')}], expected [${p.shape.join(', ')}]`,
          );
        p.data.set(st.readFloat32(p.name));
      }
    } finally {
      st.close();
    }
  }
}
