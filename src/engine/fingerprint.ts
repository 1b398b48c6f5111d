// A cheap identity check for cached copies of a typed array (transposed or quantized weights, their place in
// a shared weights file): its length and 64 evenly spaced elements. Frozen weights are never modified in
// place, but if a caller did, every element of an optimiser-updated tensor changes, and the sample sees it.
import type { AnyTypedArray } from './dtype.js';

export function fingerprint(a: AnyTypedArray): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const samples = Math.min(64, a.length);
  const step = a.BYTES_PER_ELEMENT;
  let h = 0x811c9dc5;
  for (let s = 0; s < samples; s++) {
    const at = Math.floor((s * a.length) / samples) * step;
    for (let b = 0; b < step; b++) h = Math.imul(h ^ bytes[at + b], 0x01000193);
  }
  return `${a.length}:${(h >>> 0).toString(16)}`;
}

/** A per-array cache that recomputes when the array's fingerprint changed. */
export class ArrayCache<K extends AnyTypedArray, V> {
  private readonly map = new WeakMap<K, { print: string; value: V }>();

  get(key: K, make: () => V): V {
    const print = fingerprint(key);
    const hit = this.map.get(key);
    if (hit && hit.print === print) return hit.value;
    const value = make();
    this.map.set(key, { print, value });
    return value;
  }
}
