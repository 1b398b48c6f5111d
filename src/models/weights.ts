// A model's weights on the host (float32, Hugging Face names), checked against what the
// architecture expects, and bound into graphs as frozen initializers or trainable inputs.
import type { Graph, Value } from '../engine/graph.js';
import { WeightStore } from '../io/checkpoint.js';
import { markFrozenLinear } from '../nn/frozen-linear.js';
import type { Precision } from '../nn/precision.js';
import type { QuantizedForm } from '../nn/quantize.js';

export interface WeightSpec {
  name: string;
  shape: number[];
  /** Heads that a checkpoint may or may not have (pooler, classifier, MLM head...). */
  optional?: boolean;
  /** Optional tensors of one head: a checkpoint holds all of a group or none of it. */
  group?: string;
  /** Groups this tensor's head reads too (BERT's classifier reads the pooler's output). */
  needs?: string[];
}

/** What a loader may find besides the specs and skip, as transformers does (buffers, tied copies, other heads). */
export type Ignorable = readonly RegExp[];

export interface HostWeight {
  shape: number[];
  data: Float32Array;
}

export class WeightMismatchError extends Error {
  override name = 'WeightMismatchError';
}

export class Weights {
  private readonly bound = new WeakMap<Graph, Map<string, Value>>();

  constructor(
    readonly source: string,
    private readonly map: Map<string, HostWeight>,
  ) {}

  has(name: string): boolean {
    return this.map.has(name);
  }

  get(name: string): HostWeight {
    const w = this.map.get(name);
    if (!w)
      throw new WeightMismatchError(
        this.released
          ? `${this.source}: weight '${name}' was released once the inference sessions held it`
          : `${this.source}: no weight '${name}'`,
      );
    return w;
  }

  private released = false;

  /** int8: every Linear reading a frozen weight runs dynamically quantized (trainable weights stay float32). */
  precision: Precision = 'fp32';
  int8Form: QuantizedForm = 'contrib';

  /**
   * Drops the JavaScript copies (inference only: onnxruntime holds its own once the sessions exist,
   * and sessions keep no reference to these arrays). Asking for a weight afterwards is an error.
   */
  release(): void {
    this.map.clear();
    this.released = true;
  }

  set(name: string, w: HostWeight): void {
    this.map.set(name, w);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  entries(): [string, HostWeight][] {
    return [...this.map.entries()];
  }

  /** Total number of scalars. */
  size(): number {
    let n = 0;
    for (const w of this.map.values()) n += w.data.length;
    return n;
  }

  /**
   * The graph Value for a weight: the trainable input that `trainable` supplies, or else a frozen
   * initializer (created once per graph; the host array is referenced, not copied).
   */
  value(g: Graph, name: string, trainable?: (name: string) => Value | undefined): Value {
    const t = trainable?.(name);
    if (t) return t;
    let perGraph = this.bound.get(g);
    if (!perGraph) this.bound.set(g, (perGraph = new Map()));
    let v = perGraph.get(name);
    if (!v) {
      const w = this.get(name);
      v = g.initializer(w.data, w.shape, 'float32', { prefix: name });
      markFrozenLinear(v, w.data, w.shape, this.precision, this.int8Form);
      perGraph.set(name, v);
    }
    return v;
  }

  /**
   * Loads the tensors `specs` asks for from a checkpoint. `rename` maps stored names to the
   * architecture's names (prefixes, legacy gamma/beta). Missing required tensors or wrong shapes
   * fail with one message that lists every problem, plus the unexpected names to help spot a
   * naming scheme mismatch.
   */
  static load(
    store: WeightStore,
    specs: WeightSpec[],
    rename: (stored: string) => string = (s) => s,
    ignorable: Ignorable = [],
  ): Weights {
    const stored = new Map<string, string>(); // canonical -> stored
    for (const s of store.names()) {
      const c = rename(s);
      if (!stored.has(c)) stored.set(c, s);
    }
    const missing: string[] = [];
    const badShape: string[] = [];
    const map = new Map<string, HostWeight>();
    for (const spec of specs) {
      const s = stored.get(spec.name);
      if (s === undefined) {
        if (!spec.optional) missing.push(`${spec.name} [${spec.shape.join(', ')}]`);
        continue;
      }
      const info = store.info(s);
      if (info.shape.join(',') !== spec.shape.join(',')) {
        badShape.push(`${s}: checkpoint [${info.shape.join(', ')}], config expects [${spec.shape.join(', ')}]`);
        continue;
      }
      map.set(spec.name, { shape: spec.shape, data: store.readFloat32(s) });
    }
    // a head is all there or absent: half a classifier would silently produce no logits
    const groups = new Map<string, WeightSpec[]>();
    for (const spec of specs) if (spec.group) groups.set(spec.group, [...(groups.get(spec.group) ?? []), spec]);
    const present = (g: string) => (groups.get(g) ?? []).some((x) => stored.has(x.name));
    for (const [g, members] of groups) {
      if (!present(g)) continue;
      for (const m of members)
        if (!stored.has(m.name))
          missing.push(`${m.name} [${m.shape.join(', ')}] (the checkpoint has the rest of the ${g} head)`);
      for (const need of new Set(members.flatMap((m) => m.needs ?? []))) {
        if (!present(need))
          for (const m of groups.get(need) ?? [])
            missing.push(`${m.name} [${m.shape.join(', ')}] (the ${g} head reads the ${need})`);
      }
    }
    const expected = new Set(specs.map((s) => s.name));
    const unused = [...stored.entries()]
      .filter(([c, s]) => !expected.has(c) && !ignorable.some((r) => r.test(s)))
      .map(([, s]) => s);
    if (missing.length || badShape.length || unused.length) {
      const lines = [`${store.source}: the weights do not match the config`];
      if (missing.length)
        lines.push(
          `  missing (${missing.length}): ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}`,
        );
      if (badShape.length) lines.push(`  wrong shape (${badShape.length}): ${badShape.slice(0, 20).join('; ')}`);
      // unused tensors are an error: a config with fewer layers than the weights would run silently
      if (unused.length)
        lines.push(
          `  unexpected (${unused.length}): ${unused.slice(0, 20).join(', ')}${unused.length > 20 ? ', ...' : ''}`,
        );
      throw new WeightMismatchError(lines.join('\n'));
    }
    return new Weights(store.source, map);
  }
}
