/**
 * A starting point for masked-LM pretraining in which attention heads already look at fixed neighbours.
 *
 * Why: a decoder gets bigram statistics for free (the current token sits in its own residual stream), so
 * next-token loss falls at once; a masked position holds only [MASK], and masked LM stays on the unigram
 * plateau until heads learn to attend to i - 1, i + 1 (the "syntactic attention structure" whose late
 * emergence makes the plateau, Chen et al. 2024). Here the routing is set at initialisation instead:
 * positions are sinusoids in the first head_dim dimensions, and a head's query is the key rotated by a
 * fixed offset, so q_i . k_j peaks at j = i + offset. Everything stays trainable.
 */
import type { Bert } from '../models/bert.js';

/** Offsets of layer 0's heads (cycled when there are more heads); later layers get only the first two. */
export const NEIGHBOUR_OFFSETS = [-1, 1, -2, 2];
/** Attention logit of the neighbour above the other positions at initialisation. */
const PEAK_LOGIT = 8;

export function neighbourAttentionInit(bert: Bert): void {
  const c = bert.config;
  const d = c.hidden_size;
  const headDim = d / c.num_attention_heads;
  const pairs = headDim / 2; // sin / cos pairs, one frequency each, in dimensions [0, headDim)
  if (!Number.isInteger(pairs) || pairs < 2)
    throw new Error(`neighbour attention init: head size ${headDim} too small`);
  const std = c.initializer_range;
  // frequencies pi k / (pairs + 1): their cosines sum to a sharp peak at offset 0, periodic in 2 (pairs + 1) positions
  const omega = Array.from({ length: pairs }, (_, m) => (Math.PI * (m + 1)) / (pairs + 1));
  // sinusoids of mean square 8 std^2 in their dimensions: strong enough against the token embeddings for
  // a clean peak (tested), while the table's mean square over all d stays near a token embedding's
  const amplitude = std * Math.sqrt(16);
  const pos = bert.weights.get('embeddings.position_embeddings.weight').data as Float32Array;
  for (let p = 0; p < c.max_position_embeddings; p++) {
    pos.fill(0, p * d, (p + 1) * d);
    for (let m = 0; m < pairs; m++) {
      pos[p * d + 2 * m] = amplitude * Math.sin(omega[m] * p);
      pos[p * d + 2 * m + 1] = amplitude * Math.cos(omega[m] * p);
    }
  }
  // after the embedding LayerNorm (word + token type + position) a sinusoid has amplitude s
  const meanSquare = 2 * std * std + (pairs * amplitude * amplitude) / d;
  const s2 = (amplitude * amplitude) / meanSquare;
  const gain = (PEAK_LOGIT * Math.sqrt(headDim)) / (s2 * pairs);
  for (let layer = 0; layer < c.num_hidden_layers; layer++) {
    const heads = layer === 0 ? c.num_attention_heads : Math.min(2, c.num_attention_heads);
    const prefix = `encoder.layer.${layer}.attention.self`;
    const wq = bert.weights.get(`${prefix}.query.weight`).data as Float32Array; // [out, in]
    const wk = bert.weights.get(`${prefix}.key.weight`).data as Float32Array;
    const bq = bert.weights.get(`${prefix}.query.bias`).data as Float32Array;
    const bk = bert.weights.get(`${prefix}.key.bias`).data as Float32Array;
    for (let h = 0; h < heads; h++) {
      const offset = NEIGHBOUR_OFFSETS[h % NEIGHBOUR_OFFSETS.length];
      for (let r = h * headDim; r < (h + 1) * headDim; r++) {
        wq.fill(0, r * d, (r + 1) * d);
        wk.fill(0, r * d, (r + 1) * d);
        bq[r] = 0;
        bk[r] = 0;
      }
      for (let m = 0; m < pairs; m++) {
        const row = h * headDim + 2 * m;
        const cos = Math.cos(omega[m] * offset);
        const sin = Math.sin(omega[m] * offset);
        // query pair = position pair rotated forward by `offset` positions: (sin w(i+o), cos w(i+o))
        wq[row * d + 2 * m] = gain * cos;
        wq[row * d + 2 * m + 1] = gain * sin;
        wq[(row + 1) * d + 2 * m] = -gain * sin;
        wq[(row + 1) * d + 2 * m + 1] = gain * cos;
        wk[row * d + 2 * m] = 1;
        wk[(row + 1) * d + 2 * m + 1] = 1;
      }
    }
  }
}
