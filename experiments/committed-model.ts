// Writing a model folder that will be committed under models/ (issue #12): float16 weights, the run's
// tokenizer, and the project's 25 MB limit per folder.
import fs from 'node:fs';
import path from 'node:path';
import type { Backbone } from '../src/models/backbone.js';
import { loadModel } from '../src/models/load.js';
import { saveModel } from '../src/models/save.js';

const MAX_BYTES = 25 * 1024 ** 2;

export function saveForCommit(run: string, name: string): { out: string; model: Backbone; bytes: number } {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`--name must be a plain folder name, got ${JSON.stringify(name)}`);
  const out = path.join('models', name);
  const model = loadModel(run);
  saveModel(model, out, { dtype: 'float16', tokenizerFrom: run });
  // the files just written: not a card or adapter folder left by an earlier publication of the same name
  const bytes = fs
    .readdirSync(out, { withFileTypes: true })
    .filter((f) => f.isFile() && f.name !== 'MODEL_CARD.md')
    .reduce((a, f) => a + fs.statSync(path.join(out, f.name)).size, 0);
  if (bytes > MAX_BYTES) {
    fs.rmSync(out, { recursive: true });
    throw new Error(
      `${out}: ${(bytes / 1024 ** 2).toFixed(1)} MB, over the 25 MB limit for committed weights; removed`,
    );
  }
  return { out, model, bytes };
}
