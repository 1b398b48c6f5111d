// `revmux pretrain`: pretraining of a small encoder (masked LM) or decoder (next token) from a text corpus.
import type { Command } from 'commander';
import { fraction, int, positiveInt, positiveNum } from './args.js';

export function registerPretrain(program: Command): void {
  program
    .command('pretrain')
    .description(
      'pretraining from a .txt / .txt.gz corpus: masked LM of a BERT encoder (plain, or multiplexed as MUX-PLM ' +
        'with --mux N) or next-token prediction of a LLaMA decoder; writes a Hugging Face folder, checkpoints ' +
        'atomically and resumes',
    )
    .requiredOption(
      '--corpus <file>',
      'text corpus, one paragraph per line, documents separated by blank lines (.txt or .txt.gz, streamed)',
    )
    .option('--out <dir>', 'output model folder (resumable state in <out>/.train-state); required unless --score-only')
    .option('--tokenizer <dir>', 'folder with tokenizer.json', '../shared/data/tokenizers/bert-base-uncased')
    .option(
      '--arch <name>',
      'family of a fresh model: bert: masked LM (BertForMaskedLM); llama: next-token prediction ' +
        '(LlamaForCausalLM, tied embeddings); t5: span corruption (T5ForConditionalGeneration; the tokenizer ' +
        "gets T5's sentinels <extra_id_0..99> if it lacks them); with --model, the folder's family decides",
      'bert',
    )
    .option('--preset <name>', 'model size: tiny, mini, small, medium, base', 'mini')
    .option('--layers <n>', "number of layers instead of the preset's", positiveInt)
    .option('--seq-len <n>', 'packed sequence length', positiveInt, 128)
    .option('--batch-size <n>', 'sequences per step', positiveInt, 64)
    .option('--lr <x>', 'peak learning rate', positiveNum, 1e-3)
    .option('--warmup <fraction>', 'share of the budget spent warming up linearly to the peak', fraction, 0.05)
    .option('--max-steps <n>', 'step budget', positiveInt)
    .option('--minutes <x>', 'training-time budget in minutes (the schedule decays over it)', positiveNum)
    .option('--dropout <p>', 'hidden and attention dropout', fraction, 0)
    .option(
      '--mask-rate <p>',
      "share of tokens masked in training (15% is BERT's; T5: the share in noise spans of mean length 3); " +
        'held-out evaluation always masks 15%',
      fraction,
      0.15,
    )
    .option('--eval-every <n>', 'held-out evaluation + checkpoint every n steps', positiveInt, 200)
    .option('--held-out <n>', 'held-out sequences (the first of the corpus)', positiveInt, 256)
    .option(
      '--corpus-start-line <n>',
      "line where training's first pass starts (default: where --model's run stopped, else after the held-out part)",
      int,
    )
    .option(
      '--objective <name>',
      'for --arch bert: mlm (masked LM) or causal (next token under a causal mask, through the MLM head; ' +
        'a warm start for mlm)',
      'mlm',
    )
    .option(
      '--position-init <kind>',
      "a fresh BERT's position embeddings: random, sinusoidal, or neighbours (sinusoids + heads that attend " +
        "to fixed offsets); a fresh T5's: neighbours (relative-bias heads at offsets -1, +1 and cross-attention " +
        'heads that match tokens); all trained',
      'random',
    )
    .option('--seed <n>', 'seed', int, 42)
    .option('--model <dir>', "start from this model folder's weights (and config) instead of a fresh preset")
    .option(
      '--mux <n>',
      'MUX-PLM: pretrain under multiplexing with n instances per pass (token retrieval, then masked LM); ' +
        'writes a MUX-PLM folder for revmux finetune --method muxplm',
      positiveInt,
    )
    .option(
      '--priming <fraction>',
      'with --mux: share of the budget spent on token retrieval before masked LM',
      fraction,
      0.2,
    )
    .option('--nu <x>', 'with --mux: norm of the Gaussian Hadamard vectors', positiveNum, 20)
    .option('--fresh', 'ignore a resumable state in <out> and start over')
    .option('--score-only', 'score --model on the held-out slice the other options define, print it, write nothing')
    .action(async (o) => {
      const { pretrain, scoreHeldOut, POSITION_INITS } = await import('../train/pretrain.js');
      if (o.scoreOnly) {
        if (!o.model) throw new Error('--score-only needs --model DIR');
        const r = await scoreHeldOut({ ...o, heldOutSequences: o.heldOut });
        console.log(
          JSON.stringify(
            {
              model: o.model,
              heldout_loss: r.loss,
              heldout_accuracy: r.accuracy,
              heldout_sequences: r.sequences,
              seq_len: o.seqLen,
            },
            null,
            2,
          ),
        );
        return;
      }
      if (!o.out) throw new Error('revmux pretrain: --out DIR is required');
      if (o.objective !== 'mlm' && o.objective !== 'causal')
        throw new Error(`--objective must be mlm or causal, got ${JSON.stringify(o.objective)}`);
      if (!POSITION_INITS.includes(o.positionInit))
        throw new Error(
          `--position-init must be one of ${POSITION_INITS.join(', ')}, got ${JSON.stringify(o.positionInit)}`,
        );
      const r = await pretrain({ ...o, heldOutSequences: o.heldOut, warmupFraction: o.warmup });
      console.log(
        JSON.stringify(
          {
            steps: r.steps,
            tokens: r.tokens,
            seconds: r.seconds,
            tokens_per_s: r.tokensPerSecond,
            heldout_loss: r.heldOut.loss,
            heldout_accuracy: r.heldOut.accuracy,
            parameters: r.parameters,
            out: o.out,
          },
          null,
          2,
        ),
      );
    });
}
