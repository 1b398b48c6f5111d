// A fingerprint of a model's weights, so an adapter can tell whether it is loaded onto the
// backbone it was trained on (same names, shapes and values).
import { createHash } from 'node:crypto';
import type { Weights } from './weights.js';

export function weightsHash(w: Weights): string {
  const h = createHash('sha256');
  for (const name of w.names().sort()) {
    const t = w.get(name);
    h.update(`${name}:${t.shape.join('x')};`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}
