// npm run experiment:random-model -- [--out runs/random-bert-base] [--preset base] [--n 2] [--l 3]
// Writes a preset-shaped BERT classifier and a RevMUX adapter, both with random weights
// (bench/random-model.ts), for speed measurements at a real model size.
import { writeRandomServingModel } from '../bench/random-model.js';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const written = writeRandomServingModel(arg('out', 'runs/random-bert-base'), {
  preset: arg('preset', 'base'),
  n: Number(arg('n', '2')),
  l: Number(arg('l', '3')),
  tokenizer: arg('tokenizer', '../shared/data/tokenizers/bert-base-uncased'),
});
console.log(`wrote ${written.model} and ${written.adapter}`);
