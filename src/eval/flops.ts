// Analytic inference FLOPs per example (a multiply-add counts 2), for SISO and each multiplexing
// variant, as in the paper's inference-cost table (spec §8, §11.2 table B). Counted: every matrix
// product (projections, attention scores and mixing, feed-forward, heads, adapters). Not counted:
// element-wise work (softmax, norms, activations, residual adds) and embedding lookups, which are a
// few percent at these sizes.
import { type FullMuxSettings, demuxFlops, prefixLength } from '../baselines/datamux.js';
import { type ModelConfig, architectureOf, dims } from '../models/registry.js';
import type { MuxSpec } from '../mux/spec.js';
import { VARIANTS } from '../mux/variants.js';

/** FLOPs of one residual-stream layer (T5: encoder block) over one sequence of S tokens. */
export function layerFlops(c: ModelConfig, S: number): number {
  return architectureOf(c).layerFlops(c, S);
}

export function numLayers(c: ModelConfig): number {
  return dims(c).layers;
}

export function hiddenSize(c: ModelConfig): number {
  return dims(c).hidden;
}

/**
 * FLOPs that run once per multiplexed row after the residual layers, i.e. shared by the N
 * instances: BERT's pooler; T5's whole decoder over T steps (cross-attending S encoder states).
 */
export function sharedTailFlops(c: ModelConfig, S: number, T = 3): number {
  return architectureOf(c).sharedTailFlops(c, S, T);
}

/** The per-instance head: 2 label logits from a d-vector. */
export function headFlops(c: ModelConfig): number {
  return 2 * hiddenSize(c) * 2;
}

/** Adapter FLOPs per instance over S tokens (multiplexer side) and at one answer position (demux side). */
export function adapterFlops(spec: MuxSpec, S: number): { mux: number; demux: number } {
  return VARIANTS[spec.variant].flops(spec.d, spec.n, S);
}

export interface FlopsBreakdown {
  prefill: number;
  adapters: number;
  shared_layers: number;
  shared_tail: number;
  head: number;
  total: number;
}

/** SISO FLOPs per example at sequence length S. */
export function sisoFlops(c: ModelConfig, S: number): FlopsBreakdown {
  const layers = numLayers(c) * layerFlops(c, S);
  const tail = sharedTailFlops(c, S);
  const head = headFlops(c);
  return { prefill: layers, adapters: 0, shared_layers: 0, shared_tail: tail, head, total: layers + tail + head };
}

/** Multiplexed FLOPs per example: prefill l layers alone, the rest shared by N (spec §8). */
export function muxFlops(c: ModelConfig, spec: MuxSpec, S: number): FlopsBreakdown {
  const L = numLayers(c);
  const prefill = spec.l * layerFlops(c, S);
  const a = adapterFlops(spec, S);
  const shared = ((L - spec.l) * layerFlops(c, S)) / spec.n;
  const tail = sharedTailFlops(c, S) / spec.n;
  const head = headFlops(c);
  const adapters = a.mux + a.demux;
  return {
    prefill,
    adapters,
    shared_layers: shared,
    shared_tail: tail,
    head,
    total: prefill + adapters + shared + tail + head,
  };
}

/**
 * Whole-model multiplexing (DataMUX, MUX-PLM) per example: every layer runs once per group of N, over the mixed
 * stream (DataMUX's index prefix included), then the demultiplexing head; no pooler.
 */
export function fullMuxFlops(c: ModelConfig, s: FullMuxSettings, S: number): number {
  return (numLayers(c) * layerFlops(c, S + prefixLength(s))) / s.n + demuxFlops(s, hiddenSize(c));
}

/** The backbone-only bound L / (l + (L - l) / N). */
export function theoreticalSpeedup(L: number, l: number, n: number): number {
  return L / (l + (L - l) / n);
}
