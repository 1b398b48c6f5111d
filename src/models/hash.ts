// A fingerprint of a model's weights, so an adapter can tell whether it is loaded onto the
// backbone it was trained on (same names, shapes and values).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
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

/** A fingerprint of a folder's weight files as stored (every *.safetensors, by name), without loading them. */
export function weightFilesHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.safetensors'))
    .sort()) {
    h.update(`${f};`);
    h.update(fs.readFileSync(path.join(dir, f)));
  }
  return h.digest('hex');
}
