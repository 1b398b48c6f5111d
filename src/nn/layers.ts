// Transformer building blocks over graph Values. Weights follow the PyTorch / Hugging Face layout
// (Linear weight is [out, in]), so checkpoints load without reshuffling.
import type { Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { frozenLinear } from './frozen-linear.js';

export interface LinearWeights {
  weight: Value; // [out, in]
  bias?: Value | null; // [out]
}

/**
 * y = x W^T + b. A frozen weight bound by a model is read from its prepared copy (already transposed,
 * or int8 for a model loaded in int8: frozen-linear.ts); a trainable one through Transpose.
 */
export function linear(x: Value, p: LinearWeights): Value {
  const frozen = frozenLinear(x, p.weight, p.bias);
  if (frozen) return frozen;
  const y = op.matmul(x, op.transpose(p.weight, [1, 0]));
  return p.bias ? op.add(y, p.bias) : y;
}

export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu' | 'tanh';

/** Activations by their Hugging Face config names (hidden_act / feed_forward_proj). */
export function activation(x: Value, name: Activation): Value {
  switch (name) {
    case 'gelu':
      // x (1 + erf(x / sqrt 2)) / 2, exact GELU, in the order and ops onnxruntime's GeluFusion matches: it
      // becomes one com.microsoft BiasGelu with the Linear's bias (results/gelu-fusion-base.json)
      return op.mul(op.mul(x, op.add(op.erf(op.div(x, Math.SQRT2)), 1)), 0.5);
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const inner = op.mul(op.add(x, op.mul(op.mul(op.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return op.mul(op.mul(x, 0.5), op.add(op.tanh(inner), 1));
    }
    case 'relu':
      return op.relu(x);
    case 'silu':
      return op.mul(x, op.sigmoid(x));
    case 'tanh':
      return op.tanh(x);
    default:
      throw new Error(
        `unknown activation '${name as string}' (known: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, tanh)`,
      );
  }
}

/**
 * Additive attention bias from a [B, S] 0/1 mask: 0 where attended, a large negative number where
 * masked, shaped [B, 1, 1, S] to broadcast over heads and query positions.
 */
export function paddingMaskBias(mask: Value, dtype: 'float32' | 'float64' = 'float32'): Value {
  const m = op.cast(mask, dtype);
  // (1 - m) * -1e9 rather than the dtype minimum: finite, so a fully masked row still gives a softmax.
  return op.unsqueeze(op.mul(op.sub(1, m), -1e9), [1, 2]);
}

/** [B, S, H] -> [B, heads, S, H / heads] */
export function splitHeads(x: Value, heads: number): Value {
  const [b, s, h] = x.shape;
  if (typeof h !== 'number' || h % heads !== 0)
    throw new Error(`splitHeads: hidden size ${h} is not divisible by ${heads} heads`);
  return op.transpose(op.reshape(x, [b, s, heads, h / heads]), [0, 2, 1, 3]);
}

/** [B, heads, S, D] -> [B, S, heads * D] */
export function mergeHeads(x: Value): Value {
  const [b, heads, s, d] = x.shape;
  return op.reshape(op.transpose(x, [0, 2, 1, 3]), [b, s, (heads as number) * (d as number)]);
}

/** softmax(q k^T * scale + bias) v, per head; `dropProbs` is attention dropout on the probabilities. */
export function scaledDotProductAttention(
  q: Value,
  k: Value,
  v: Value,
  bias: Value | null,
  scale: number,
  dropProbs?: (p: Value) => Value,
): Value {
  let scores = op.matmul(q, op.transposeLast2(k));
  if (scale !== 1) scores = op.mul(scores, scale);
  if (bias) scores = op.add(scores, bias);
  const probs = op.softmax(scores, -1);
  return op.matmul(dropProbs ? dropProbs(probs) : probs, v);
}

/** T5 / LLaMA RMSNorm: x / sqrt(mean(x^2) + eps) * weight (no mean subtraction, no bias). */
export function rmsNorm(x: Value, weight: Value, eps: number): Value {
  const variance = op.reduceMean(op.mul(x, x), [-1], true);
  return op.mul(op.mul(x, op.reciprocal(op.sqrt(op.add(variance, eps)))), weight);
}

export interface BertLayerWeights {
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  attnOut: LinearWeights;
  attnNorm: { weight: Value; bias: Value };
  intermediate: LinearWeights;
  output: LinearWeights;
  outNorm: { weight: Value; bias: Value };
}

export interface BertLayerOptions {
  heads: number;
  act: Activation;
  eps: number;
  /** Training-mode dropout, by kind; omitted in inference. */
  dropout?: (x: Value, kind: 'hidden' | 'attention') => Value;
}

/** One post-norm BERT encoder layer, as transformers' BertLayer. x: [B, S, H]; maskBias: [B, 1, 1, S]. */
export function bertLayer(x: Value, maskBias: Value | null, w: BertLayerWeights, o: BertLayerOptions): Value {
  const drop = o.dropout ?? ((v: Value) => v);
  const h = x.shape[2] as number;
  const q = splitHeads(linear(x, w.query), o.heads);
  const k = splitHeads(linear(x, w.key), o.heads);
  const v = splitHeads(linear(x, w.value), o.heads);
  const ctx = mergeHeads(
    scaledDotProductAttention(q, k, v, maskBias, 1 / Math.sqrt(h / o.heads), (p) => drop(p, 'attention')),
  );
  const attn = op.layerNorm(op.add(drop(linear(ctx, w.attnOut), 'hidden'), x), w.attnNorm.weight, w.attnNorm.bias, {
    epsilon: o.eps,
  });
  const ff = linear(activation(linear(attn, w.intermediate), o.act), w.output);
  return op.layerNorm(op.add(drop(ff, 'hidden'), attn), w.outNorm.weight, w.outNorm.bias, { epsilon: o.eps });
}

/** Parameter names (Hugging Face BertLayer naming, without the layer prefix) and shapes. */
export function bertLayerShapes(hidden: number, ffn: number): [string, number[]][] {
  const lin = (name: string, out: number, inp: number): [string, number[]][] => [
    [`${name}.weight`, [out, inp]],
    [`${name}.bias`, [out]],
  ];
  return [
    ...lin('attention.self.query', hidden, hidden),
    ...lin('attention.self.key', hidden, hidden),
    ...lin('attention.self.value', hidden, hidden),
    ...lin('attention.output.dense', hidden, hidden),
    ['attention.output.LayerNorm.weight', [hidden]],
    ['attention.output.LayerNorm.bias', [hidden]],
    ...lin('intermediate.dense', ffn, hidden),
    ...lin('output.dense', hidden, ffn),
    ['output.LayerNorm.weight', [hidden]],
    ['output.LayerNorm.bias', [hidden]],
  ];
}

/** Groups Values named as in bertLayerShapes (looked up through `get`) into BertLayerWeights. */
export function bertLayerWeights(get: (name: string) => Value): BertLayerWeights {
  const lin = (n: string): LinearWeights => ({ weight: get(`${n}.weight`), bias: get(`${n}.bias`) });
  const norm = (n: string) => ({ weight: get(`${n}.weight`), bias: get(`${n}.bias`) });
  return {
    query: lin('attention.self.query'),
    key: lin('attention.self.key'),
    value: lin('attention.self.value'),
    attnOut: lin('attention.output.dense'),
    attnNorm: norm('attention.output.LayerNorm'),
    intermediate: lin('intermediate.dense'),
    output: lin('output.dense'),
    outNorm: norm('output.LayerNorm'),
  };
}
