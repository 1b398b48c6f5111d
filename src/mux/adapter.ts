// Adapter folders: adapter_config.json (what it is and what it was trained on) + adapter.safetensors.
// Loading onto a different backbone, N or layout fails with a message saying what differs.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ParamSet } from '../engine/params.js';
import { writeTextAtomic } from '../io/safetensors.js';
import type { Backbone } from '../models/backbone.js';
import { weightsHash } from '../models/hash.js';
import { MUX_VARIANTS, type MuxSpec, adapterShapes, validateSpec } from './spec.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter.safetensors';
/** The slot layout and chain this code implements (spec §3.4-3.8); recorded so a future change is detected. */
export const LAYOUT = 'canonical-chain/block';

export interface AdapterConfig {
  revmux_version: string;
  variant: MuxSpec['variant'];
  n: number;
  l: number;
  d: number;
  dropout: number;
  layout: string;
  task: string;
  label_words: [string, string];
  /** Token ids of the label words (T5/LLaMA); null for BERT's classifier. */
  label_ids: [number, number] | null;
  base_model: {
    source: string;
    name: string;
    model_type: string;
    num_layers: number;
    hidden_size: number;
    weights_sha256: string;
  };
  training: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

export function revmuxVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

export function specOf(c: AdapterConfig): MuxSpec {
  return { variant: c.variant, n: c.n, l: c.l, d: c.d, dropout: c.dropout };
}

export function baseModelInfo(model: Backbone): AdapterConfig['base_model'] {
  return {
    source: model.source,
    name: path.basename(path.resolve(model.source)),
    model_type: model.modelType,
    num_layers: model.numLayers,
    hidden_size: model.hiddenSize,
    weights_sha256: weightsHash(model.weights),
  };
}

export function saveAdapter(dir: string, config: AdapterConfig, params: ParamSet): void {
  fs.mkdirSync(dir, { recursive: true });
  params.save(path.join(dir, ADAPTER_WEIGHTS), { variant: config.variant, n: String(config.n), l: String(config.l) });
  writeTextAtomic(path.join(dir, ADAPTER_CONFIG), JSON.stringify(config, null, 2) + '\n');
}

export function loadAdapter(dir: string): { config: AdapterConfig; params: ParamSet } {
  const cfgFile = path.join(dir, ADAPTER_CONFIG);
  if (!fs.existsSync(cfgFile))
    throw new Error(`${dir}: no ${ADAPTER_CONFIG} (is this an adapter folder written by revmux train?)`);
  let config: AdapterConfig;
  try {
    config = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  } catch (e) {
    throw new Error(`${cfgFile}: not valid JSON (${(e as Error).message})`);
  }
  checkAdapterConfig(config, cfgFile);
  if (config.layout !== LAYOUT)
    throw new Error(`${cfgFile}: layout "${config.layout}" is not the one this revmux implements ("${LAYOUT}")`);
  const params = new ParamSet();
  for (const [name, shape] of adapterShapes(specOf(config)))
    params.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  params.load(path.join(dir, ADAPTER_WEIGHTS));
  return { config, params };
}

/** Field types and ranges of an adapter_config.json, each error naming the file and the field. */
function checkAdapterConfig(c: AdapterConfig, file: string): void {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error(`${file}: not a JSON object`);
  for (const k of ['variant', 'n', 'l', 'd', 'base_model'] as const)
    if (c[k] === undefined) throw new Error(`${file}: missing "${k}"`);
  const field = (k: string, v: unknown, ok: boolean, want: string) => {
    if (!ok) throw new Error(`${file}: "${k}" must be ${want}, got ${JSON.stringify(v)}`);
  };
  field('variant', c.variant, MUX_VARIANTS.includes(c.variant), `one of ${MUX_VARIANTS.join(', ')}`);
  field('n', c.n, Number.isInteger(c.n) && c.n >= 1, 'an integer >= 1');
  field('d', c.d, Number.isInteger(c.d) && c.d >= 1, 'an integer >= 1');
  field('dropout', c.dropout, typeof c.dropout === 'number', 'a number');
  const b = c.base_model as Partial<AdapterConfig['base_model']> | null;
  field(
    'base_model',
    b,
    typeof b === 'object' &&
      b !== null &&
      typeof b.model_type === 'string' &&
      Number.isInteger(b.num_layers) &&
      Number.isInteger(b.hidden_size) &&
      typeof b.weights_sha256 === 'string',
    'an object with model_type, num_layers, hidden_size and weights_sha256',
  );
  field(
    'l',
    c.l,
    Number.isInteger(c.l) && c.l >= 0 && c.l <= b!.num_layers!,
    `an integer in [0, ${b!.num_layers}] (base_model.num_layers)`,
  );
  try {
    validateSpec(specOf(c), b!.num_layers!);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

/**
 * Checks an adapter against the backbone it is about to run on (and the N / l asked for, if any);
 * lists every difference. `weightsSha256`: the backbone's weightsHash, when the caller already has it.
 */
export function checkAdapterFits(
  config: AdapterConfig,
  model: Backbone,
  want: { n?: number; l?: number } = {},
  where = 'adapter',
  weightsSha256?: string,
): void {
  const diffs: string[] = [];
  const b = config.base_model;
  if (b.model_type !== model.modelType) diffs.push(`model_type: adapter ${b.model_type}, backbone ${model.modelType}`);
  if (b.hidden_size !== model.hiddenSize)
    diffs.push(`hidden size: adapter ${b.hidden_size}, backbone ${model.hiddenSize}`);
  if (b.num_layers !== model.numLayers) diffs.push(`layers: adapter ${b.num_layers}, backbone ${model.numLayers}`);
  if (want.n !== undefined && want.n !== config.n) diffs.push(`N: adapter ${config.n}, requested ${want.n}`);
  if (want.l !== undefined && want.l !== config.l) diffs.push(`l: adapter ${config.l}, requested ${want.l}`);
  if (!diffs.length) {
    const hash = weightsSha256 ?? weightsHash(model.weights); // callers checking several adapters hash once
    if (hash !== b.weights_sha256)
      diffs.push(
        `backbone weights differ from the ones it was trained on (${b.name}, sha256 ` +
          `${b.weights_sha256.slice(0, 12)}…; this backbone ${hash.slice(0, 12)}…)`,
      );
  }
  if (diffs.length) throw new Error(`${where} does not fit this backbone (${model.source}): ${diffs.join('; ')}`);
}
