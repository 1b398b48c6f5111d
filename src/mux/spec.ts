// What a multiplexing adapter is: variant, width N, split layer l, hidden size d, and the names and
// shapes of its trainable parameters (spec §3, §4, §7).
import { ParamSet } from '../engine/params.js';
import { Rng } from '../engine/random.js';

import { MUX_VARIANTS, type MuxVariant, VARIANTS } from './variants.js';

export { MUX_VARIANTS, type MuxVariant } from './variants.js';

export interface MuxSpec {
  variant: MuxVariant;
  /** Instances per multiplexed row. */
  n: number;
  /** Prefill layers run per instance before mixing. */
  l: number;
  /** Backbone hidden size. */
  d: number;
  /** Dropout inside the adapters during training (spec: 0.1). */
  dropout: number;
}

export function validateSpec(s: MuxSpec, numLayers: number): void {
  if (!MUX_VARIANTS.includes(s.variant))
    throw new Error(`unknown variant '${s.variant}' (known: ${MUX_VARIANTS.join(', ')})`);
  if (!Number.isInteger(s.n) || s.n < 1) throw new Error(`N must be an integer >= 1, got ${s.n}`);
  if (VARIANTS[s.variant].slotsOfDOverN && s.d % s.n !== 0)
    throw new Error(
      `hidden size d = ${s.d} is not divisible by N = ${s.n}: ${s.variant} needs d/N-wide slots (try N in ${divisors(
        s.d,
      )
        .filter((x) => x <= 64)
        .join(', ')})`,
    );
  if (!Number.isInteger(s.l) || s.l < 0 || s.l > numLayers)
    throw new Error(`prefill layers l must be in [0, ${numLayers}], got ${s.l}`);
  if (!(s.dropout >= 0 && s.dropout < 1)) throw new Error(`adapter dropout must be in [0, 1), got ${s.dropout}`);
}

function divisors(d: number): number[] {
  return [...Array(d).keys()].map((i) => i + 1).filter((k) => d % k === 0);
}

/** Slot width d/N. */
export const slotWidth = (s: MuxSpec) => s.d / s.n;

/** Parameter names and shapes (Linear weights [out, in] as PyTorch). */
export function adapterShapes(s: MuxSpec): [string, number[]][] {
  return VARIANTS[s.variant].shapes(s.d, s.n);
}

/** PyTorch's default nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. */
export function initAdapter(s: MuxSpec, seed: number): ParamSet {
  const rng = new Rng(seed);
  const ps = new ParamSet();
  const shapes = adapterShapes(s);
  const fanIn = new Map(
    shapes.filter(([n]) => n.endsWith('.weight')).map(([n, sh]) => [n.slice(0, -'.weight'.length), sh[1]]),
  );
  for (const [name, shape] of shapes) {
    const bound = 1 / Math.sqrt(fanIn.get(name.replace(/\.(weight|bias)$/, ''))!);
    ps.add(
      name,
      shape,
      rng.uniformArray(
        shape.reduce((a, b) => a * b, 1),
        -bound,
        bound,
      ),
    );
  }
  return ps;
}

/** Trainable parameter count, as spec §7 tabulates. */
export function adapterSize(s: MuxSpec): number {
  return adapterShapes(s).reduce((a, [, sh]) => a + sh.reduce((p, q) => p * q, 1), 0);
}
