// `revmux export`: a model (and, with an adapter, its multiplexer) as one self-contained ONNX file that
// any onnxruntime runs without revmux: Node, web, Python, C#, or a serving engine such as Triton.
//
// With an adapter: model.onnx maps input_ids / attention_mask (+ token_type_ids for BERT-family models)
// [G, N, S], right-padded, to label logits [G, N, 2]; an all-zero mask row is an empty slot. revmux.json
// states N, l, the labels, the inputs and outputs, and the backbone's weight hash.
// Without an adapter: the plain SISO classifier in the folder layout transformers.js loads
// (onnx/model.onnx + config.json + tokenizer files), so `pipeline('text-classification', dir)` works.
//
// The graph uses standard ONNX operators only (domain ai.onnx, opset 17); weights of 1 KiB and more go
// to model.onnx_data (ONNX external data) when asked, and always past 1.5 GB, where protobuf stops.
// With precision int8 the backbone's Linear layers are DynamicQuantizeLinear + MatMulInteger (standard
// operators; onnxruntime's CPU optimiser fuses them), and a SISO export is onnx/model_quantized.onnx,
// the file transformers.js loads for dtype 'q8'.
import fs from 'node:fs';
import path from 'node:path';
import type { Graph } from '../engine/graph.js';
import { writeAtomic, writeTextAtomic } from '../io/safetensors.js';
import { TextTokenizer } from '../io/tokenizer.js';
import { TASKS, parseTask } from '../data/glue.js';
import { weightsHash } from '../models/hash.js';
import { loadModel } from '../models/load.js';
import { dims } from '../models/registry.js';
import { checkAdapterFits, loadAdapter, revmuxVersion, specOf } from '../mux/adapter.js';
import { fusedMuxGraph, fusedSisoGraph } from '../mux/graphs.js';
import type { Precision } from '../nn/precision.js';
import { tritonConfig } from './triton.js';

export interface ExportOptions {
  model: string;
  adapter?: string;
  out: string;
  /** 'onnx': the folder described above; 'triton': a Triton model repository around the same file. */
  format?: 'onnx' | 'triton';
  /** Triton model name (default: revmux_<task>_n<N>). */
  name?: string;
  /** Write weights as external data even below the protobuf limit. */
  externalData?: boolean;
  /** Task whose labels a SISO export names (default: the adapter's, else the model's finetuning_task, else sst2). */
  task?: string;
  /** int8: the backbone's Linear layers dynamically quantized (nn/quantize.ts); default fp32. */
  precision?: Precision;
}

export interface ExportResult {
  /** The ONNX file written. */
  onnx: string;
  manifest: RevmuxManifest;
}

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: (string | number)[];
}

export interface RevmuxManifest {
  format: 'revmux-onnx/1';
  revmux_version: string;
  kind: 'multiplexed' | 'siso';
  n: number;
  l: number | null;
  variant: string | null;
  task: string;
  labels: [string, string];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** How to fill the inputs. */
  layout: string;
  pad_id: number;
  max_length: number | null;
  precision: Precision;
  opset: number;
  /** Domains of the graph's nodes (ai.onnx: standard); `operators` lists the op types used. */
  operator_domains: string[];
  operators: string[];
  backbone: { model_type: string; sha256: string };
  external_data: string | null;
}

const PROTOBUF_SAFE_BYTES = 1.5 * 1024 ** 3;

/** Encodes `graph` to `file`, with its large weights in `<file>_data` when asked or when too big for protobuf. */
function writeOnnx(graph: Graph, file: string, external: boolean): string | null {
  const weightBytes = graph.initializers.reduce((a, i) => a + i.data.byteLength, 0);
  if (!external && weightBytes < PROTOBUF_SAFE_BYTES) {
    writeAtomic(file, (fd) => fs.writeSync(fd, graph.encode()));
    return null;
  }
  const dataName = `${path.basename(file)}_data`;
  const { model, data } = graph.encodeWithExternalData(dataName);
  writeAtomic(path.join(path.dirname(file), dataName), (fd) => {
    for (const c of data) fs.writeSync(fd, c);
  });
  writeAtomic(file, (fd) => fs.writeSync(fd, model));
  return dataName;
}

/**
 * The tokenizer files, with tokenizer_config.json naming the pad token: transformers.js pads a batch with
 * it and fails on inputs of different lengths when the config leaves it out (bert-base-uncased's does).
 */
function copyTokenizer(from: string, to: string, tok: TextTokenizer): void {
  for (const f of ['tokenizer.json', 'special_tokens_map.json', 'vocab.txt']) {
    const src = path.join(from, f);
    if (fs.existsSync(src)) fs.copyFileSync(src, path.join(to, f));
  }
  const configFile = path.join(from, 'tokenizer_config.json');
  const config = fs.existsSync(configFile) ? JSON.parse(fs.readFileSync(configFile, 'utf8')) : {};
  config.pad_token ??= tok.idToToken(tok.padId);
  config.model_max_length ??= tok.modelMaxLength;
  writeTextAtomic(path.join(to, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
}

const tensorInfo = (g: Graph, which: 'inputs' | 'outputs'): TensorInfo[] =>
  g[which].map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] }));

export async function exportModel(o: ExportOptions): Promise<ExportResult> {
  if (!fs.existsSync(path.join(o.model, 'tokenizer.json')))
    throw new Error(`${o.model}: no tokenizer.json; an export carries the model's tokenizer`);
  const precision = o.precision ?? 'fp32';
  const model = loadModel(o.model, { precision });
  model.weights.int8Form = 'standard'; // any ONNX runtime reads it; onnxruntime fuses it back
  const tok = TextTokenizer.load(o.model);
  const adapter = o.adapter ? loadAdapter(o.adapter) : null;
  const hash = weightsHash(model.weights);
  if (adapter) checkAdapterFits(adapter.config, model, {}, o.adapter!, hash);
  const config = JSON.parse(fs.readFileSync(path.join(o.model, 'config.json'), 'utf8'));
  const finetuned = typeof config.finetuning_task === 'string' ? config.finetuning_task : undefined;
  const task = parseTask(adapter?.config.task ?? o.task ?? finetuned ?? 'sst2');
  const labelIds = adapter?.config.label_ids ?? model.labelTokenIds(tok, task);
  const head = model.taskHead({ labelIds, tokenizer: tok });
  const graph = adapter
    ? fusedMuxGraph(model, head, specOf(adapter.config), adapter.params)
    : fusedSisoGraph(model, head);
  const format = o.format ?? 'onnx';
  const n = adapter?.config.n ?? 1;
  const name = o.name ?? `revmux_${task}_n${n}`;
  if (format === 'triton' && !/^[A-Za-z0-9_.-]+$/.test(name))
    throw new Error(`--name ${JSON.stringify(name)}: a Triton model name uses letters, digits, _, . and - only`);

  // onnx + adapter: <out>/model.onnx; onnx SISO: <out>/onnx/model.onnx (transformers.js); triton:
  // <out>/<name>/1/model.onnx
  const modelDir = format === 'triton' ? path.join(o.out, name, '1') : adapter ? o.out : path.join(o.out, 'onnx');
  fs.mkdirSync(modelDir, { recursive: true });
  const onnxFile = path.join(
    modelDir,
    !adapter && format === 'onnx' && precision === 'int8' ? 'model_quantized.onnx' : 'model.onnx',
  );
  const external = writeOnnx(graph, onnxFile, !!o.externalData);

  const labels = TASKS[task].labelWords;
  const inputs = tensorInfo(graph, 'inputs');
  const outputs = tensorInfo(graph, 'outputs');
  const manifest: RevmuxManifest = {
    format: 'revmux-onnx/1',
    revmux_version: revmuxVersion(),
    kind: adapter ? 'multiplexed' : 'siso',
    n,
    l: adapter?.config.l ?? null,
    variant: adapter?.config.variant ?? null,
    task,
    labels,
    inputs,
    outputs,
    layout: adapter
      ? `[groups, ${n}, seq]: instance i of group g at [g, i, :], right-padded with pad_id and mask 0; an all-zero ` +
        `mask row is an empty slot whose logits mean nothing. logits[g, i] = (${labels[0]}, ${labels[1]}).`
      : `[batch, seq], right-padded with pad_id and mask 0. logits[b] = (${labels[0]}, ${labels[1]}).`,
    pad_id: tok.padId,
    max_length: Number.isFinite(dims(model.config).maxPositions) ? dims(model.config).maxPositions : null,
    precision,
    opset: 17,
    operator_domains: ['ai.onnx', ...graph.domains()],
    operators: [...new Set(graph.nodes.map((nd) => nd.opType))].sort(),
    backbone: { model_type: model.modelType, sha256: hash },
    external_data: external,
  };

  const metaDir = format === 'triton' ? path.join(o.out, name) : o.out;
  copyTokenizer(o.model, metaDir, tok);
  writeTextAtomic(
    path.join(metaDir, 'config.json'),
    JSON.stringify(
      { ...config, id2label: { 0: labels[0], 1: labels[1] }, label2id: { [labels[0]]: 0, [labels[1]]: 1 } },
      null,
      2,
    ) + '\n',
  );
  writeTextAtomic(path.join(metaDir, 'revmux.json'), JSON.stringify(manifest, null, 2) + '\n');
  if (format === 'triton') writeTextAtomic(path.join(o.out, name, 'config.pbtxt'), tritonConfig(name, manifest));
  return { onnx: onnxFile, manifest };
}
