// Checkpoint averaging: the element-wise mean of the weights of several folders of one architecture and
// shape (for example the ends of two pretraining stages). Written as a model folder of the first one's
// family, with average.json naming the sources, so a model card can say how the weights were made.
import fs from 'node:fs';
import path from 'node:path';
import { writeTextAtomic } from '../io/safetensors.js';
import { architectureOf } from './registry.js';
import { loadModel } from './load.js';
import { saveModel } from './save.js';

export interface AverageRecord {
  /** The source folders, in the order given; each counts equally. */
  models: string[];
}

export const AVERAGE_RECORD = 'average.json';

export function averageModels(dirs: string[], out: string): AverageRecord {
  if (dirs.length < 2) throw new Error(`averaging needs at least two model folders, got ${dirs.length}`);
  if (dirs.some((d) => path.resolve(d) === path.resolve(out)))
    throw new Error(`--out ${out} is one of the sources: write the average to a new folder`);
  const [first, ...rest] = dirs.map((d) => ({ dir: d, model: loadModel(d) }));
  const configOf = (m: typeof first.model) => JSON.stringify(architectureOf(m.config).configJson(m.config));
  const sums = new Map(first.model.weights.entries().map(([n, w]) => [n, Float64Array.from(w.data)]));
  for (const { dir, model } of rest) {
    if (configOf(model) !== configOf(first.model))
      throw new Error(`${dir}: its config.json describes another model than ${first.dir}'s; only one shape averages`);
    if (model.weights.names().length !== sums.size)
      throw new Error(`${dir}: ${model.weights.names().length} weights, ${first.dir} has ${sums.size}`);
    for (const [name, w] of model.weights.entries()) {
      const sum = sums.get(name);
      if (!sum || sum.length !== w.data.length)
        throw new Error(`${dir}: weight '${name}' has no counterpart of the same size in ${first.dir}`);
      for (let i = 0; i < sum.length; i++) sum[i] += w.data[i];
    }
  }
  for (const [name, w] of first.model.weights.entries()) {
    const mean = new Float32Array(w.data.length);
    const sum = sums.get(name)!;
    for (let i = 0; i < mean.length; i++) mean[i] = sum[i] / dirs.length;
    first.model.weights.set(name, { shape: w.shape, data: mean });
  }
  saveModel(first.model, out, { tokenizerFrom: first.dir });
  const record: AverageRecord = { models: dirs };
  writeTextAtomic(path.join(out, AVERAGE_RECORD), JSON.stringify(record, null, 2) + '\n');
  return record;
}

/** The sources of an averaged folder, or null for a folder that is not an average. */
export function readAverageRecord(dir: string): AverageRecord | null {
  const file = path.join(dir, AVERAGE_RECORD);
  if (!fs.existsSync(file)) return null;
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as AverageRecord;
  if (!Array.isArray(r.models) || r.models.some((m) => typeof m !== 'string'))
    throw new Error(`${file}: "models" must be a list of folder paths`);
  return r;
}
