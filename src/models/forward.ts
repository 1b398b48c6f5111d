// The whole model as one graph with the golden-file interface: inputs input_ids, attention_mask
// (+ token_type_ids, decoder_input_ids), outputs hidden.{k} for k = 0..L, last_hidden_state and
// the heads' outputs. Used by `revmux forward` and the reference tests.
import { Graph } from '../engine/graph.js';
import { type HostTensor, compile } from '../engine/runtime.js';
import type { Backbone, ModelInputs } from './backbone.js';
import { dims } from './registry.js';

export interface ForwardSpec {
  tokenTypeIds?: boolean;
  decoderInputIds?: boolean;
  /** Also output hidden.{k} after every layer (default true). */
  hiddenStates?: boolean;
}

export function buildForwardGraph(model: Backbone, spec: ForwardSpec = {}): Graph {
  const g = new Graph(`${model.modelType}-forward`);
  const inputs: ModelInputs = {
    inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
  };
  if (spec.tokenTypeIds) inputs.tokenTypeIds = g.input('token_type_ids', 'int64', ['batch', 'seq']);
  if (spec.decoderInputIds) inputs.decoderInputIds = g.input('decoder_input_ids', 'int64', ['batch', 'target']);
  const m = model.bind(g);
  const ctx = m.context(inputs.attentionMask);
  let h = m.embed(inputs);
  const hidden = spec.hiddenStates ?? true;
  if (hidden) g.output('hidden.0', h);
  for (let k = 0; k < model.numLayers; k++) {
    h = m.layers(h, ctx, k, k + 1);
    if (hidden) g.output(`hidden.${k + 1}`, h);
  }
  for (const [name, v] of Object.entries(m.outputs(h, ctx, inputs))) g.output(name, v);
  return g;
}

/**
 * Checks inputs before they reach onnxruntime, so a bad file names the tensor and the value:
 * names, int64 [B, S] shapes that agree, ids inside the vocabulary, lengths inside the position table.
 */
export function validateInputs(model: Backbone, feeds: Record<string, HostTensor>): void {
  for (const required of ['input_ids', 'attention_mask'])
    if (!feeds[required]) throw new Error(`input '${required}' is missing`);
  const known = ['input_ids', 'attention_mask', 'token_type_ids', 'decoder_input_ids'];
  for (const k of Object.keys(feeds))
    if (!known.includes(k)) throw new Error(`unknown input '${k}' (known: ${known.join(', ')})`);
  const takes = ['input_ids', 'attention_mask', ...model.forwardInputs];
  for (const k of Object.keys(feeds))
    if (!takes.includes(k))
      throw new Error(`${k} is not an input of this ${model.modelType} model (it takes ${takes.join(', ')})`);
  const [B, S] = feeds.input_ids.shape;
  for (const [k, t] of Object.entries(feeds)) {
    if (!(t.data instanceof BigInt64Array)) throw new Error(`input '${k}' must be int64`);
    if (t.shape.length !== 2) throw new Error(`input '${k}' must be [batch, seq], got [${t.shape.join(', ')}]`);
    if (t.shape[0] !== B || (k !== 'decoder_input_ids' && t.shape[1] !== S))
      throw new Error(`input '${k}' has shape [${t.shape.join(', ')}], input_ids has [${B}, ${S}]`);
  }
  const c = model.config;
  const range = (k: string, hi: number) => {
    const t = feeds[k];
    if (!t) return;
    (t.data as BigInt64Array).forEach((v, i) => {
      if (v < 0n || v >= BigInt(hi))
        throw new Error(
          `input '${k}' holds ${v} at [${Math.floor(i / t.shape[1])}, ${i % t.shape[1]}]; it must be in [0, ${hi})`,
        );
    });
  };
  range('input_ids', c.vocab_size);
  range('decoder_input_ids', c.vocab_size);
  range('attention_mask', 2);
  if ('type_vocab_size' in c) range('token_type_ids', c.type_vocab_size);
  const maxPositions = dims(c).maxPositions;
  if (S > maxPositions)
    throw new Error(
      `sequence length ${S} exceeds max_position_embeddings ${maxPositions} of this ${model.modelType} model`,
    );
}

/** Runs a model on host tensors named like the golden files; returns every output. */
export async function runForward(
  model: Backbone,
  feeds: Record<string, HostTensor>,
  opts: { hiddenStates?: boolean } = {},
): Promise<Record<string, HostTensor>> {
  validateInputs(model, feeds);
  const g = buildForwardGraph(model, {
    tokenTypeIds: !!feeds.token_type_ids,
    decoderInputIds: !!feeds.decoder_input_ids,
    hiddenStates: opts.hiddenStates,
  });
  const session = await compile(g);
  return session.run(feeds);
}
