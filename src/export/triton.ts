// A Triton Inference Server model configuration (config.pbtxt) for an exported revmux ONNX file, so
// Triton's onnxruntime backend serves it with dynamic batching over the group (or batch) dimension.
// Triton cannot run here; tests check the file against the ONNX graph it describes (names, types, dims).
import type { RevmuxManifest, TensorInfo } from './onnx.js';

const TRITON_TYPES: Record<string, string> = { int64: 'TYPE_INT64', float32: 'TYPE_FP32', int32: 'TYPE_INT32' };

/** Triton dims leave out the batch dimension (max_batch_size > 0); symbolic sizes become -1. */
export function tritonDims(t: TensorInfo): number[] {
  return t.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1));
}

function tensorBlock(t: TensorInfo): string {
  const type = TRITON_TYPES[t.dtype];
  if (!type) throw new Error(`triton: no Triton type for ${t.name} (${t.dtype})`);
  return `  {\n    name: "${t.name}"\n    data_type: ${type}\n    dims: [ ${tritonDims(t).join(', ')} ]\n  }`;
}

export function tritonConfig(
  name: string,
  m: RevmuxManifest,
  o: { maxBatch?: number; queueDelayUs?: number } = {},
): string {
  const lines = [
    `# ${
      m.kind === 'multiplexed'
        ? `RevMUX N = ${m.n} (${m.variant}, l = ${m.l}): one batch row is a group of ${m.n} inputs`
        : 'SISO: one batch row is one input'
    }; see revmux.json.`,
    '# Dynamic batching concatenates requests along the first dimension, so requests batch together only when',
    '# their sequence lengths match: pad every request to the same length (for example max_length) on the client.',
    `name: "${name}"`,
    'backend: "onnxruntime"',
    `max_batch_size: ${o.maxBatch ?? 64}`,
    `input [\n${m.inputs.map(tensorBlock).join(',\n')}\n]`,
    `output [\n${m.outputs.map(tensorBlock).join(',\n')}\n]`,
    `dynamic_batching {\n  max_queue_delay_microseconds: ${o.queueDelayUs ?? 2000}\n}`,
    'instance_group [\n  {\n    count: 1\n    kind: KIND_CPU\n  }\n]',
    `parameters {\n  key: "revmux_n"\n  value: { string_value: "${m.n}" }\n}`,
  ];
  return lines.join('\n') + '\n';
}
