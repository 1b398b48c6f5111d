// npm run experiment:random-model -- [--out runs/random-bert-base] [--preset base] [--n 2] [--l 3]
// Writes a preset-shaped BERT classifier and a RevMUX adapter, both with random weights
// (bench/random-model.ts), for speed measurements at a real model size.
import { writeRandomServingModel } from '../bench/random-model.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';

const { values: opts } = scriptArgs(
  'npm run experiment:random-model -- [--out runs/random-bert-base] [--preset base] [--n 2] [--l 3] [--tokenizer DIR]',
  {
    out: 'runs/random-bert-base',
    preset: 'base',
    n: '2',
    l: '3',
    tokenizer: '../shared/data/tokenizers/bert-base-uncased',
  },
);
const written = writeRandomServingModel(opts.out, {
  preset: opts.preset,
  n: numberArg('n', opts.n),
  l: numberArg('l', opts.l),
  tokenizer: opts.tokenizer,
});
console.log(`wrote ${written.model} and ${written.adapter}`);
