// The multiplexing variants in one table, as the gradient rules are (spec §3-§4, §7, §8): for each,
// its trainable parameters, how N instances are projected and mixed into one d-wide row, how a row's
// answer vector is split back into N instance vectors, its FLOPs, and its default InfoNCE weight.
// The graphs (graphs.ts), parameter init (spec.ts), FLOPs (eval/flops.ts) and the trainer read it;
// adding a variant is one entry here.
import type { Value } from '../engine/graph.js';
import {
  type Drop,
  type ParamLookup,
  diagonal,
  downProject,
  layoutBlocks,
  mlpDemux,
  reverseDemux,
  reversibleMux,
  splitBlocks,
  stack,
  upProject,
  vanillaMap,
  vanillaMux,
} from './layers.js';

import type { MuxVariant } from './variant-names.js';

export { MUX_VARIANTS, type MuxVariant } from './variant-names.js';

type Shapes = [string, number[]][];

export interface VariantDef {
  /** What the paper calls it. */
  title: string;
  /** Each instance gets a d/N-wide slot (so N must divide d); vanilla mixes d-wide vectors instead. */
  slotsOfDOverN: boolean;
  /** Trainable parameters (Linear weights [out, in], as PyTorch). */
  shapes(d: number, n: number): Shapes;
  /** Per-instance projection before mixing: [..., d] -> [..., w]. */
  project(p: ParamLookup, h: Value): Value;
  /** N per-instance [G, S, w] slots -> one [G, S, d] row. */
  mix(p: ParamLookup, slots: Value[], drop: Drop): Value;
  /**
   * A row's answer vectors [G, d] (or [G, P, d] with one answer position per instance) -> [G, N, d]
   * per instance; `perInstance` reads slot k at instance k's own position.
   */
  demux(p: ParamLookup, answer: Value, n: number, perInstance: boolean, drop: Drop): Value;
  /** FLOPs per instance over S tokens on the mixing side, and at one answer position on the demux side. */
  flops(d: number, n: number, S: number): { mux: number; demux: number };
  /** Default InfoNCE weight λ (spec A7): for a classifier head (BERT family) and for label-word heads. */
  lambda: { classifier: number; labelWords: number };
}

const lin = (name: string, out: number, inp: number): Shapes => [
  [`${name}.weight`, [out, inp]],
  [`${name}.bias`, [out]],
];
/** MLP demux d -> 3d -> 3d -> N*d (ORA, vanilla). */
const mlpDemuxShapes = (d: number, n: number) => [
  ...lin('dec.fc1', 3 * d, d),
  ...lin('dec.fc2', 3 * d, 3 * d),
  ...lin('dec.fc3', n * d, 3 * d),
];
// one per row, shared by N
const mlpDemuxFlops = (d: number, n: number) => (2 * (3 * d * d + 9 * d * d + 3 * d * n * d)) / n;
/** Down projection d -> d/N and the N couplings d/N -> d -> d/N of the reversible chain. */
const reversibleShapes = (d: number, n: number): Shapes => {
  const out = lin('down', d / n, d);
  if (n > 1)
    for (let k = 0; k < n; k++) out.push(...lin(`coupling.${k}.fc1`, d, d / n), ...lin(`coupling.${k}.fc2`, d / n, d));
  return out;
};
const couplingFlops = (d: number, n: number) => (n > 1 ? 4 * d * (d / n) : 0); // one coupling per instance
const reversibleMuxFlops = (d: number, n: number, S: number) => 2 * S * d * (d / n) + S * couplingFlops(d, n);
const mlpDemuxPerInstance = (p: ParamLookup, answer: Value, n: number, perInstance: boolean, drop: Drop) => {
  const out = stack(mlpDemux(p, answer, n, drop), answer.rank - 1); // [G, (P,) N, d]
  return perInstance ? diagonal(out, n) : out;
};

export const VARIANTS: Record<MuxVariant, VariantDef> = {
  // RevMUX: reversible mixing of d/N slots, un-mixed by the same couplings in reverse, then U: d/N -> d.
  revmux: {
    title: 'RevMUX (reversible mux and demux)',
    slotsOfDOverN: true,
    shapes: (d, n) => [
      ...reversibleShapes(d, n),
      ...lin('up.fc1', 3 * d, d / n),
      ...lin('up.fc2', 3 * d, 3 * d),
      ...lin('up.fc3', d, 3 * d),
    ],
    project: downProject,
    mix: (p, slots, drop) => layoutBlocks(reversibleMux(p, slots, drop)),
    demux(p, answer, n, perInstance, drop) {
      let a = stack(reverseDemux(p, splitBlocks(answer, n), drop), answer.rank - 1); // [G, (P,) N, d/N]
      if (perInstance) a = diagonal(a, n);
      return upProject(p, a, drop);
    },
    flops: (d, n, S) => ({
      mux: reversibleMuxFlops(d, n, S),
      demux: couplingFlops(d, n) + 2 * (3 * d * (d / n) + 9 * d * d + 3 * d * d),
    }),
    lambda: { classifier: 0.25, labelWords: 0.5 },
  },
  // Only-mux-reversible (ORA): RevMUX's multiplexer, an MLP demultiplexer.
  ora: {
    title: 'only the multiplexer reversible (ORA)',
    slotsOfDOverN: true,
    shapes: (d, n) => [...reversibleShapes(d, n), ...mlpDemuxShapes(d, n)],
    project: downProject,
    mix: (p, slots, drop) => layoutBlocks(reversibleMux(p, slots, drop)),
    demux: mlpDemuxPerInstance,
    flops: (d, n, S) => ({ mux: reversibleMuxFlops(d, n, S), demux: mlpDemuxFlops(d, n) }),
    lambda: { classifier: 0.25, labelWords: 0.5 },
  },
  // Vanilla adapters: a d -> d map per instance, an MLP over the N concatenated vectors, an MLP demux.
  vanilla: {
    title: 'vanilla adapters (MLP mux and demux)',
    slotsOfDOverN: false,
    shapes: (d, n) => [
      ...lin('map', d, d),
      ...lin('mux.fc1', 3 * d, n * d),
      ...lin('mux.fc2', d, 3 * d),
      ...mlpDemuxShapes(d, n),
    ],
    project: vanillaMap,
    mix: vanillaMux,
    demux: mlpDemuxPerInstance,
    flops: (d, n, S) => ({
      mux: 2 * S * d * d + (2 * S * (3 * d * n * d + 3 * d * d)) / n,
      demux: mlpDemuxFlops(d, n),
    }),
    lambda: { classifier: 0.5, labelWords: 0.5 },
  },
};
