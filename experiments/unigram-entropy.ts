// npm run experiment:unigram -- [--corpus FILE] [--tokenizer DIR] [--seq-len 64] [--held-out 512] [--out FILE]
// The baseline a next-token decoder must beat (backbones issue: held-out loss ≥ 2.0 nats below it):
// the unigram entropy of the corpus's training tokens, and the cross-entropy of that unigram model
// (add-one smoothed) on the decoder's held-out targets, which are packed exactly as `revmux pretrain`
// packs them (the first `held-out` sequences; targets are positions 1..S-1). Writes results/unigram-entropy.json.
import path from 'node:path';
import { type PackerState, packSequences } from '../src/data/corpus.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { TextTokenizer } from '../src/io/tokenizer.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';

const { values: opts } = scriptArgs(
  'npm run experiment:unigram -- [--corpus FILE] [--tokenizer DIR] [--seq-len 64] [--held-out 512] [--out FILE]',
  {
    corpus: '../shared/data/corpus/enwiki-sample.txt.gz',
    tokenizer: '../shared/data/tokenizers/bert-base-uncased',
    'seq-len': '64',
    'held-out': '512',
    out: 'results/unigram-entropy.json',
  },
);
const { corpus } = opts;
const tokDir = opts.tokenizer;
const seqLen = numberArg('seq-len', opts['seq-len']);
const heldCount = numberArg('held-out', opts['held-out']);
const tok = TextTokenizer.load(tokDir);

const counts = new Float64Array(tok.vocabSize);
const heldTargets: number[] = [];
let trainTokens = 0;
const state: PackerState = { lineNo: 0, pending: [] };
let seen = 0;
for await (const s of packSequences(corpus, tok, seqLen, state)) {
  if (seen++ < heldCount) heldTargets.push(...s.ids.slice(1));
  else {
    for (const t of s.ids) counts[t]++;
    trainTokens += s.ids.length;
  }
}
let entropy = 0;
for (const c of counts) if (c > 0) entropy -= (c / trainTokens) * Math.log(c / trainTokens);
const smoothed = (t: number) => (counts[t] + 1) / (trainTokens + tok.vocabSize);
const heldCrossEntropy = -heldTargets.reduce((a, t) => a + Math.log(smoothed(t)), 0) / heldTargets.length;
const result = {
  corpus: path.basename(corpus),
  tokenizer: path.basename(tokDir),
  seq_len: seqLen,
  held_out_sequences: heldCount,
  train_tokens: trainTokens,
  distinct_train_tokens: counts.filter((c) => c > 0).length,
  unigram_entropy_nats: entropy,
  held_out_targets: heldTargets.length,
  held_out_unigram_cross_entropy_nats: heldCrossEntropy,
};
console.log(JSON.stringify(result, null, 2));
writeTextAtomic(opts.out, JSON.stringify(result, null, 2) + '\n');
