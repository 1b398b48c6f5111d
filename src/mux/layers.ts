// The multiplexing and demultiplexing layers as graph fragments (spec §3.4-3.9, §4).
//
// Slots are a list of N Values of equal shape [..., d/N] (RevMUX/ORA) or [..., d] (vanilla).
// The canonical reversible chain (spec §3.4, §12 A1-A3), for any N:
//   mux:   b_1 = a_1 + F_1(a_N);  b_k = a_k + F_k(b_{k-1}), k = 2..N
//   demux: â_N = c_N - F_N(c_{N-1});  â_k = c_k - F_k(c_{k-1}), k = N-1..2;  â_1 = c_1 - F_1(â_N)
// With the same F_k on both sides and dropout off, demux(mux(a)) = a exactly, slot k <-> instance k.
// The slots are laid out as contiguous blocks on both sides (not the code's interleaved mux).
import type { Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { linear } from '../nn/layers.js';

export type ParamLookup = (name: string) => Value;
export type Drop = (x: Value) => Value;

const lin = (p: ParamLookup, name: string, x: Value) =>
  linear(x, { weight: p(`${name}.weight`), bias: p(`${name}.bias`) });

/** Coupling adapter F_k: d/N -> d -> d/N, ReLU (then dropout) after both layers. */
export function coupling(p: ParamLookup, k: number, x: Value, drop: Drop): Value {
  const h = drop(op.relu(lin(p, `coupling.${k}.fc1`, x)));
  return drop(op.relu(lin(p, `coupling.${k}.fc2`, h)));
}

/** The reversible multiplexer over N slots (0-based: slot j is a_{j+1}). N = 1 is the identity. */
export function reversibleMux(p: ParamLookup, a: Value[], drop: Drop): Value[] {
  const n = a.length;
  if (n === 1) return a;
  const b: Value[] = [op.add(a[0], coupling(p, 0, a[n - 1], drop))];
  for (let k = 1; k < n; k++) b.push(op.add(a[k], coupling(p, k, b[k - 1], drop)));
  return b;
}

/** The exact inverse of reversibleMux with the same adapters. */
export function reverseDemux(p: ParamLookup, c: Value[], drop: Drop): Value[] {
  const n = c.length;
  if (n === 1) return c;
  const out: Value[] = new Array(n);
  out[n - 1] = op.sub(c[n - 1], coupling(p, n - 1, c[n - 2], drop));
  for (let k = n - 2; k >= 1; k--) out[k] = op.sub(c[k], coupling(p, k, c[k - 1], drop));
  out[0] = op.sub(c[0], coupling(p, 0, out[n - 1], drop));
  return out;
}

/** Down projection D: d -> d/N (no activation). */
export function downProject(p: ParamLookup, h: Value): Value {
  return lin(p, 'down', h);
}

/** Up projection U: d/N -> 3d -> 3d -> d, ReLU + dropout inside, dropout at the output. */
export function upProject(p: ParamLookup, x: Value, drop: Drop): Value {
  const h1 = drop(op.relu(lin(p, 'up.fc1', x)));
  const h2 = drop(op.relu(lin(p, 'up.fc2', h1)));
  return drop(lin(p, 'up.fc3', h2));
}

/** Vanilla per-instance map A: d -> d. */
export function vanillaMap(p: ParamLookup, h: Value): Value {
  return lin(p, 'map', h);
}

/** Vanilla mux: concat of N d-wide vectors -> 3d -> d, ReLU + dropout after both layers. */
export function vanillaMux(p: ParamLookup, slots: Value[], drop: Drop): Value {
  const u = op.concat(slots, -1);
  const h = drop(op.relu(lin(p, 'mux.fc1', u)));
  return drop(op.relu(lin(p, 'mux.fc2', h)));
}

/** MLP demux (vanilla, ORA): d -> 3d -> 3d -> N*d, cut into N contiguous d-wide chunks. */
export function mlpDemux(p: ParamLookup, o: Value, n: number, drop: Drop): Value[] {
  const h1 = drop(op.relu(lin(p, 'dec.fc1', o)));
  const h2 = drop(op.relu(lin(p, 'dec.fc2', h1)));
  const out = drop(lin(p, 'dec.fc3', h2));
  const d = (out.shape[out.rank - 1] as number) / n;
  return n === 1 ? [out] : op.split(out, new Array(n).fill(d), -1);
}

/** Lays slots side by side as contiguous blocks: [..., d/N] x N -> [..., d]. */
export function layoutBlocks(slots: Value[]): Value {
  return slots.length === 1 ? slots[0] : op.concat(slots, -1);
}

/** Cuts a [..., d] vector into N contiguous d/N blocks. */
export function splitBlocks(x: Value, n: number): Value[] {
  const d = x.shape[x.rank - 1] as number;
  return n === 1 ? [x] : op.split(x, new Array(n).fill(d / n), -1);
}

/** Stacks per-slot Values [..., w] along a new axis at `axis`. */
export function stack(xs: Value[], axis: number): Value {
  return xs.length === 1
    ? op.unsqueeze(xs[0], [axis])
    : op.concat(
        xs.map((x) => op.unsqueeze(x, [axis])),
        axis,
      );
}

/** [G, P, N, w] with P = N answer positions -> [G, N, w]: slot k read at instance k's own position. */
export function diagonal(x: Value, n: number): Value {
  const r = x.graph.int64s([...Array(n).keys()]);
  const eye = op.cast(op.equal(op.unsqueeze(r, [1]), op.unsqueeze(r, [0])), 'float32'); // [N, N]
  return op.reduceSum(op.mul(x, op.unsqueeze(eye, [0, 3])), [1], false);
}
