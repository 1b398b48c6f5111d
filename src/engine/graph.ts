// The graph being built: values, nodes, inputs, initializers and outputs, serialised to ONNX.
//
// Values are immutable handles. Ops (ops.ts) append nodes; autodiff (autodiff.ts) appends the
// vector-Jacobian nodes to the same graph, so one session computes the loss and the gradients.
import onnxProto from 'onnx-proto';
import { type AnyTypedArray, type DType, onnxDataType } from './dtype.js';
import { type Dim, type Shape, formatShape } from './shape.js';

const { onnx } = onnxProto;

/** ONNX opset of every graph we emit. 17 is the first with LayerNormalization. */
export const OPSET = 17;

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: { dtype: DType; shape: number[]; data: AnyTypedArray } };

/** Typed attribute constructors: a float attribute stays a float even when it is whole (1.0). */
export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  tensor: (dtype: DType, shape: number[], data: AnyTypedArray): Attr => ({
    kind: 'tensor',
    value: { dtype, shape, data },
  }),
};

export class Value {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
    /** The node that computes this value; undefined for graph inputs and initializers. */
    readonly producer?: Node,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

export interface Node {
  readonly opType: string;
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
  /** Nodes that autodiff must treat as constants (stop-gradient, shape arithmetic). */
  readonly noGrad: boolean;
  /** Operator domain: '' (standard ONNX) or com.microsoft (onnxruntime's contrib operators). */
  readonly domain?: string;
}

/** onnxruntime's contrib operators (version 1 of the domain). */
export const CONTRIB_DOMAIN = 'com.microsoft';

export interface InitializerData {
  value: Value;
  data: AnyTypedArray;
}

export interface InputOptions {
  /** Gradients may be taken with respect to this input (parameters, activations). Default true for floats. */
  trainable?: boolean;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: InitializerData[] = [];
  private readonly trainableInputs = new Set<Value>();
  private readonly usedNames = new Set<string>();
  private readonly scalarCache = new Map<string, Value>();
  /** Unnamed initializers by host array: a graph holding several parts (SISO, each N) stores each array once. */
  private readonly byArray = new WeakMap<AnyTypedArray, Value>();
  private counter = 0;
  /** Bumped on every change, so a session cache can tell a graph was extended after compiling it. */
  version = 0;

  constructor(readonly name = 'revmux') {}

  freshName(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.usedNames.has(name));
    this.usedNames.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`graph '${this.name}': the name '${name}' is already used`);
    this.usedNames.add(name);
  }

  input(name: string, dtype: DType, shape: Shape, opts: InputOptions = {}): Value {
    this.claim(name);
    const v = new Value(this, name, dtype, [...shape]);
    this.inputs.push(v);
    const floating = dtype === 'float32' || dtype === 'float64';
    if (opts.trainable ?? floating) {
      if (!floating) throw new Error(`graph input '${name}' is ${dtype}; only float inputs can be trainable`);
      this.trainableInputs.add(v);
    }
    this.version++;
    return v;
  }

  isTrainable(v: Value): boolean {
    return this.trainableInputs.has(v);
  }

  /**
   * A frozen tensor stored in the model. The typed array is referenced, not copied. `name` must be
   * unused; with `{ prefix }` a fresh name starting with it is chosen instead.
   */
  initializer(data: AnyTypedArray, shape: readonly number[], dtype: DType, name?: string | { prefix: string }): Value {
    const n = shape.reduce((p, d) => p * d, 1);
    const label = typeof name === 'string' ? name : (name?.prefix ?? 'const');
    if (data.length !== n)
      throw new Error(`initializer '${label}': ${data.length} elements for shape ${formatShape(shape)} (${n})`);
    const seen = typeof name === 'string' ? undefined : this.byArray.get(data);
    if (seen && seen.dtype === dtype && String(seen.shape) === String(shape)) return seen;
    let vname: string;
    if (typeof name === 'string') {
      this.claim(name);
      vname = name;
    } else vname = this.freshName(label);
    const v = new Value(this, vname, dtype, [...shape]);
    if (typeof name !== 'string') this.byArray.set(data, v);
    this.initializers.push({ value: v, data });
    this.version++;
    return v;
  }

  /** A scalar constant, shared by every use of the same dtype and value. */
  scalar(x: number, dtype: DType): Value {
    const key = `${dtype}:${Object.is(x, -0) ? '-0' : x}`;
    let v = this.scalarCache.get(key);
    if (!v) {
      const data =
        dtype === 'int64'
          ? BigInt64Array.of(BigInt(x))
          : dtype === 'float64'
            ? Float64Array.of(x)
            : dtype === 'int32'
              ? Int32Array.of(x)
              : dtype === 'bool'
                ? Uint8Array.of(x ? 1 : 0)
                : Float32Array.of(x);
      v = this.initializer(data, [], dtype);
      this.scalarCache.set(key, v);
    }
    return v;
  }

  int64s(values: readonly number[]): Value {
    return this.initializer(
      BigInt64Array.from(values, (x) => BigInt(x)),
      [values.length],
      'int64',
    );
  }

  addNode(
    opType: string,
    inputs: (Value | null)[],
    outSpecs: { dtype: DType; shape: readonly Dim[] }[],
    attrs: Record<string, Attr> = {},
    noGrad = false,
    domain = '',
  ): Value[] {
    for (const i of inputs)
      if (i && i.graph !== this) throw new Error(`${opType}: input ${i.name} belongs to another graph`);
    const outputs: Value[] = [];
    const node: Node = { opType, inputs, outputs, attrs, noGrad, ...(domain ? { domain } : {}) };
    for (const s of outSpecs) outputs.push(new Value(this, this.freshName(opType), s.dtype, [...s.shape], node));
    this.nodes.push(node);
    this.version++;
    return outputs;
  }

  /** Marks a value as a graph output under the given name (an Identity node renames it). */
  output(name: string, v: Value): Value {
    if (v.graph !== this) throw new Error(`output '${name}' belongs to another graph`);
    this.claim(name);
    const out = new Value(this, name, v.dtype, v.shape, undefined);
    const node: Node = { opType: 'Identity', inputs: [v], outputs: [out], attrs: {}, noGrad: true };
    (out as { producer?: Node }).producer = node;
    this.nodes.push(node);
    this.outputs.push(out);
    this.version++;
    return out;
  }

  /** Operator domains the nodes use besides the standard one. */
  domains(): string[] {
    return [...new Set(this.nodes.map((n) => n.domain ?? '').filter((d) => d !== ''))];
  }

  /**
   * The ONNX ModelProto bytes. Initializer bytes are views on the caller's arrays until encoded; an
   * initializer no node reads is left out (a Linear weight replaced by its int8 copy). With
   * `external`, initializers of at least `minBytes` go to a side file instead (ONNX external data: the
   * protobuf itself cannot pass 2 GB): `external.place` stores the bytes and says where they went.
   */
  /**
   * The initializers some node reads: what encode() writes. A frozen Linear's float32 original is dropped
   * once its transposed or int8 copy replaced it in every node.
   */
  liveInitializers(): { value: Value; data: AnyTypedArray }[] {
    const read = new Set<Value>();
    for (const n of this.nodes) for (const i of n.inputs) if (i) read.add(i);
    return this.initializers.filter(({ value }) => read.has(value));
  }

  encode(
    o: {
      external?: {
        minBytes: number;
        place: (bytes: Uint8Array, data: AnyTypedArray) => { location: string; offset: number };
      };
    } = {},
  ): Uint8Array {
    const valueInfo = (v: Value) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: onnxDataType(v.dtype),
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const encodeAttr = (name: string, a: Attr) => {
      const T = onnx.AttributeProto.AttributeType;
      switch (a.kind) {
        case 'int':
          return { name, type: T.INT, i: a.value };
        case 'float':
          return { name, type: T.FLOAT, f: a.value };
        case 'ints':
          return { name, type: T.INTS, ints: a.value };
        case 'floats':
          return { name, type: T.FLOATS, floats: a.value };
        case 'string':
          return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
        case 'tensor': {
          const d = a.value.data;
          return {
            name,
            type: T.TENSOR,
            t: {
              dims: a.value.shape,
              dataType: onnxDataType(a.value.dtype),
              rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
            },
          };
        }
      }
    };
    const graph = {
      name: this.name,
      node: this.nodes.map((n, i) => ({
        name: `n${i}_${n.opType}`,
        opType: n.opType,
        domain: n.domain ?? '',
        input: n.inputs.map((v) => (v ? v.name : '')),
        output: n.outputs.map((v) => v.name),
        attribute: Object.entries(n.attrs).map(([k, a]) => encodeAttr(k, a)),
      })),
      initializer: this.liveInitializers().map(({ value, data }) => {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        const head = { name: value.name, dims: value.shape as number[], dataType: onnxDataType(value.dtype) };
        if (!o.external || bytes.byteLength < o.external.minBytes) return { ...head, rawData: bytes };
        const at = o.external.place(bytes, data);
        const externalData = [
          { key: 'location', value: at.location },
          { key: 'offset', value: String(at.offset) },
          { key: 'length', value: String(bytes.byteLength) },
        ];
        return { ...head, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData };
      }),
      input: this.inputs.map(valueInfo),
      output: this.outputs.map(valueInfo),
    };
    const opsetImport = [{ domain: '', version: OPSET }, ...this.domains().map((domain) => ({ domain, version: 1 }))];
    const model = { irVersion: 8, opsetImport, producerName: 'revmux', graph };
    return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  }

  /**
   * The ModelProto with every initializer of at least `minBytes` moved to one external-data file named
   * `location` (next to the model file): the model bytes and that file's contents, in order.
   */
  encodeWithExternalData(location: string, minBytes = 1024): { model: Uint8Array; data: Uint8Array[] } {
    const data: Uint8Array[] = [];
    let offset = 0;
    const model = this.encode({
      external: {
        minBytes,
        place: (b) => {
          const at = { location, offset };
          data.push(b);
          offset += b.byteLength;
          return at;
        },
      },
    });
    return { model, data };
  }
}
