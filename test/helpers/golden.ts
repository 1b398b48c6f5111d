// The model inputs stored in a reference golden file.
import path from 'node:path';
import type { HostTensor } from '../../src/engine/runtime.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';

export const INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids', 'decoder_input_ids'];

export function goldenInputs(dir: string): { feeds: Record<string, HostTensor>; golden: SafetensorsFile } {
  const golden = SafetensorsFile.open(path.join(dir, 'golden.safetensors'));
  const feeds: Record<string, HostTensor> = {};
  for (const n of INPUT_NAMES)
    if (golden.tensors.has(n)) feeds[n] = { data: golden.readInt64(n), shape: golden.info(n).shape };
  return { feeds, golden };
}
