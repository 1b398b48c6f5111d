// Folders of whole-model multiplexers (DataMUX, MUX-PLM): the BERT encoder as a Hugging Face folder
// (config.json, model.safetensors, tokenizer.json; loadable on its own), plus mux_config.json (what
// multiplexes it, how it was trained) and mux.safetensors (the fixed Hadamard vectors and the heads).
import fs from 'node:fs';
import path from 'node:path';
import { ParamSet } from '../engine/params.js';
import { SafetensorsFile, writeTextAtomic } from '../io/safetensors.js';
import type { Backbone } from '../models/backbone.js';
import { Bert } from '../models/bert.js';
import { loadModel } from '../models/load.js';
import { saveModel } from '../models/save.js';
import { Weights } from '../models/weights.js';
import { revmuxVersion } from '../mux/adapter.js';
import {
  FULL_MUX_METHODS,
  type FullMuxMethod,
  type FullMuxSettings,
  gaussianHadamard,
  headShapes,
  initHead,
  prefixIds,
} from './datamux.js';

export const MUX_CONFIG = 'mux_config.json';
export const MUX_WEIGHTS = 'mux.safetensors';

export interface FullMuxConfig {
  revmux_version: string;
  method: FullMuxMethod;
  n: number;
  nu: number;
  demux_layers: number;
  num_labels: number;
  filler_id: number;
  index_ids: number[];
  /** 'pretrained': MUX-PLM after multiplexed pretraining (no classifier); 'finetuned': a task model. */
  stage: 'pretrained' | 'finetuned';
  task: string | null;
  label_words: string[] | null;
  /** Where the encoder's weights started (a folder, or a preset for random init). */
  init_from: string;
  training: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

export interface FullMuxModel {
  bert: Bert;
  settings: FullMuxSettings;
  /** Trainable head parameters (demux, classifier, retrieval). */
  head: ParamSet;
  /** Gaussian Hadamard vectors [N, d], fixed. */
  vectors: Float32Array;
}

export function settingsOf(c: FullMuxConfig): FullMuxSettings {
  return {
    method: c.method,
    n: c.n,
    nu: c.nu,
    demuxLayers: c.demux_layers,
    numLabels: c.num_labels,
    fillerId: c.filler_id,
    indexIds: c.index_ids,
  };
}

/** `model` as the encoder a whole-model multiplexer runs on; `what` names it in the error (a folder, a preset). */
export function bertEncoder(model: Backbone, method: FullMuxMethod, what: string): Bert {
  if (!(model instanceof Bert))
    throw new Error(`${method} is implemented on BERT encoders; ${what} is ${model.modelType}`);
  return encoderOnly(model);
}

/** The encoder without BERT's own heads (pooler, classifier, MLM head), which the multiplexers replace. */
export function encoderOnly(m: Bert): Bert {
  const keep = new Map(m.weights.entries().filter(([n]) => !/^(pooler|classifier|cls)\./.test(n)));
  const config = { ...m.config };
  delete (config as Record<string, unknown>).id2label;
  delete (config as Record<string, unknown>).label2id;
  return new Bert(config, new Weights(m.weights.source, keep), m.source);
}

/**
 * A task model with fresh heads on `bert` (already without its own heads: encoderOnly). DataMUX's index tokens come
 * from `tokenToId` ([unused1..N] in BERT's vocabulary; the last ids otherwise, and where no tokenizer is given).
 */
export function freshFullMux(
  bert: Bert,
  method: FullMuxMethod,
  n: number,
  o: { nu?: number; seed: number; tokenToId?: (t: string) => number | undefined },
): FullMuxModel {
  const d = bert.hiddenSize;
  const settings: FullMuxSettings = {
    method,
    n,
    nu: o.nu ?? 20,
    demuxLayers: method === 'muxplm' ? 3 : 2,
    numLabels: 2,
    ...(method === 'datamux'
      ? prefixIds(n, bert.config.vocab_size, o.tokenToId ?? (() => undefined))
      : { fillerId: -1, indexIds: [] }),
  };
  const head = initHead(settings, d, bert.config.vocab_size, bert.config.initializer_range, o.seed);
  return { bert, settings, head, vectors: gaussianHadamard(n, d, settings.nu, o.seed + 17) };
}

/** BERT weights (sharing the model's arrays, so updates are what gets saved) and the heads, in one set. */
export function allParams(m: FullMuxModel): ParamSet {
  const ps = new ParamSet();
  for (const [n, w] of m.bert.weights.entries()) ps.add(n, w.shape, w.data);
  for (const p of m.head.list()) ps.add(p.name, p.shape, p.data);
  return ps;
}

export function isFullMuxFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, MUX_CONFIG));
}

export function saveFullMux(
  dir: string,
  m: FullMuxModel,
  config: Omit<
    FullMuxConfig,
    'revmux_version' | 'method' | 'n' | 'nu' | 'demux_layers' | 'num_labels' | 'filler_id' | 'index_ids'
  >,
  tokenizerFrom: string,
): void {
  const s = m.settings;
  saveModel(m.bert, dir, { tokenizerFrom });
  const vectors = new ParamSet();
  vectors.add('mux.vectors', [s.n, m.bert.hiddenSize], m.vectors);
  const all = new ParamSet();
  for (const p of [...vectors.list(), ...m.head.list()]) all.add(p.name, p.shape, p.data);
  all.save(path.join(dir, MUX_WEIGHTS), { method: s.method, n: String(s.n) });
  const full: FullMuxConfig = {
    revmux_version: revmuxVersion(),
    method: s.method,
    n: s.n,
    nu: s.nu,
    demux_layers: s.demuxLayers,
    num_labels: s.numLabels,
    filler_id: s.fillerId,
    index_ids: s.indexIds,
    ...config,
  };
  writeTextAtomic(path.join(dir, MUX_CONFIG), JSON.stringify(full, null, 2) + '\n'); // last: marks a complete folder
}

export function readFullMuxConfig(dir: string): FullMuxConfig {
  const file = path.join(dir, MUX_CONFIG);
  if (!fs.existsSync(file))
    throw new Error(
      `${dir}: no ${MUX_CONFIG} (is this a DataMUX / MUX-PLM folder written by revmux finetune --method or revmux ` +
        `pretrain --mux?)`,
    );
  let c: FullMuxConfig;
  try {
    c = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  for (const k of ['method', 'n', 'nu', 'demux_layers', 'num_labels', 'filler_id', 'index_ids'] as const)
    if (c[k] === undefined) throw new Error(`${file}: missing "${k}"`);
  if (!FULL_MUX_METHODS.includes(c.method))
    throw new Error(`${file}: method "${c.method}" is not one of ${FULL_MUX_METHODS.join(', ')}`);
  return c;
}

/**
 * Loads a folder. `settings` overrides (e.g. fine-tuning a pretrained MUX-PLM adds a classifier
 * and a third demux layer): head tensors the folder lacks are freshly initialised.
 */
export function loadFullMux(
  dir: string,
  settings?: Partial<FullMuxSettings>,
  seed = 42,
): { model: FullMuxModel; config: FullMuxConfig } {
  const config = readFullMuxConfig(dir);
  const bert = loadModel(dir);
  if (!(bert instanceof Bert))
    throw new Error(`${dir}: ${config.method} needs a BERT encoder, found model_type ${bert.modelType}`);
  const s = { ...settingsOf(config), ...settings };
  const file = SafetensorsFile.open(path.join(dir, MUX_WEIGHTS));
  try {
    const stored = new ParamSet();
    for (const name of file.names()) stored.add(name, file.info(name).shape, file.readFloat32(name));
    if (!stored.has('mux.vectors')) throw new Error(`${dir}/${MUX_WEIGHTS}: no tensor 'mux.vectors'`);
    const vectors = stored.get('mux.vectors');
    if (vectors.shape.join() !== [s.n, bert.hiddenSize].join())
      throw new Error(
        `${dir}/${MUX_WEIGHTS}: mux.vectors is [${vectors.shape.join(', ')}], expected [${s.n}, ${bert.hiddenSize}] ` +
          `for N = ${s.n}`,
      );
    const head = initHead(s, bert.hiddenSize, bert.config.vocab_size, bert.config.initializer_range, seed, stored);
    const unknown = stored
      .names()
      .filter(
        (n) => n !== 'mux.vectors' && !headShapes(s, bert.hiddenSize, bert.config.vocab_size).some(([h]) => h === n),
      );
    if (unknown.length && !settings)
      throw new Error(`${dir}/${MUX_WEIGHTS}: tensors this ${s.method} model does not use: ${unknown.join(', ')}`);
    return { model: { bert, settings: s, head, vectors: vectors.data }, config };
  } finally {
    file.close();
  }
}
