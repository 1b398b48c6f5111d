// Static shape tracking with symbolic dimensions.
//
// A dimension is either a number or a symbol. A symbol is a name ('batch', 'seq') or a product of
// names written 'batch*seq', so that reshapes which merge symbolic axes stay trackable.

export type Dim = number | string;
export type Shape = readonly Dim[];

export function formatShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function isStatic(s: Shape): s is readonly number[] {
  return s.every((d) => typeof d === 'number');
}

export function numel(s: Shape): number | undefined {
  return isStatic(s) ? s.reduce((p, d) => p * d, 1) : undefined;
}

/** Numpy-style broadcasting; symbols only broadcast against themselves or 1. */
export function broadcastShapes(a: Shape, b: Shape, what: () => string): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else
      throw new ShapeError(
        `${what()}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i - n}: ${x} vs ${y})`,
      );
  }
  return out;
}

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export function normAxis(axis: number, rank: number, what: () => string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`${what()}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

// ---- products of symbols, for reshape inference ----

interface Factored {
  coef: number;
  syms: string[];
}

function factor(d: Dim): Factored {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split('*')) {
    if (/^\d+$/.test(part)) coef *= Number(part);
    else syms.push(part);
  }
  return { coef, syms };
}

function product(dims: Shape): Factored {
  let coef = 1;
  const syms: string[] = [];
  for (const d of dims) {
    const f = factor(d);
    coef *= f.coef;
    syms.push(...f.syms);
  }
  return { coef, syms };
}

function toDim(f: Factored): Dim {
  if (f.syms.length === 0) return f.coef;
  const sym = [...f.syms].sort().join('*');
  return f.coef === 1 ? sym : `${f.coef}*${sym}`;
}

/** product(num) / product(den) if it divides exactly, else undefined. */
export function divideDims(num: Shape, den: Shape): Dim | undefined {
  const n = product(num);
  const d = product(den);
  if (d.coef === 0 || n.coef % d.coef !== 0) return undefined;
  const rest = [...n.syms];
  for (const s of d.syms) {
    const i = rest.indexOf(s);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return toDim({ coef: n.coef / d.coef, syms: rest });
}

export function multiplyDims(dims: Shape): Dim {
  return toDim(product(dims));
}
