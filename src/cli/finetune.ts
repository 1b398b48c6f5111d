// `revmux finetune`: full fine-tuning on a GLUE task, single-input (SISO) or multiplexed as the
// DataMUX / MUX-PLM baselines (--method).
import type { Command } from 'commander';
import { findGlueDir, parseTask } from '../data/glue.js';
import { FULL_MUX_METHODS, type FullMuxMethod } from '../baselines/methods.js';
import { fraction, int, positiveInt, positiveNum } from './args.js';

export function registerFinetune(program: Command): void {
  program
    .command('finetune')
    .description(
      'fine-tune all weights on a GLUE task (BERT: classifier on the pooler; T5/LLaMA: label-word verbalizer); ' +
        'writes the best dev-accuracy checkpoint as a Hugging Face folder',
    )
    .requiredOption('--task <name>', 'sst2, mrpc, rte, qnli, or synthetic (built in, no data needed)')
    .requiredOption('--out <dir>', 'output folder (Hugging Face format; resumable state in <out>/.train-state)')
    .option('--model <dir>', 'model folder to start from (BERT, T5 or LLaMA; e.g. one made by `revmux pretrain`)')
    .option('--init <preset>', 'start from random weights of a preset: tiny, mini, small, medium, base')
    .option('--layers <n>', "with --init: number of layers instead of the preset's", positiveInt)
    .option(
      '--arch <name>',
      'with --init: bert (an encoder with a classifier), llama (a decoder) or t5 (encoder-decoder); the last two ' +
        'answer with label words',
      'bert',
    )
    .option('--tokenizer <dir>', 'folder with tokenizer.json (default: the model folder)')
    .option('--data <dir>', 'GLUE folder (default: $REVMUX_DATA, ./data/glue or ../shared/data/glue)')
    .option('--epochs <n>', 'epochs (with --patience: the cap)', positiveInt, 3)
    .option(
      '--patience <n>',
      'with --method datamux|muxplm: stop after n evaluations in a row without a better dev accuracy',
      positiveInt,
    )
    .option('--batch-size <n>', 'examples per step', positiveInt, 32)
    .option('--lr <x>', 'peak learning rate (linear warm-up over 10% then decay)', positiveNum, 5e-5)
    .option('--max-length <n>', 'tokens per example, truncated', positiveInt, 128)
    .option('--eval-every <n>', 'evaluate + checkpoint every n steps (default: each epoch)', positiveInt)
    .option('--seed <n>', 'seed for order, dropout and fresh heads', int, 42)
    .option('--limit-train <n>', 'use only the first n training examples', positiveInt)
    .option('--limit-dev <n>', 'use only the first n dev examples', positiveInt)
    .option(
      '--method <name>',
      'siso (one input per pass), or a whole-model multiplexing baseline: datamux, muxplm',
      'siso',
    )
    .option('-n, --n <n>', 'with --method datamux|muxplm: instances multiplexed per pass', positiveInt, 2)
    .option('--retrieval-weight <w>', 'datamux: share of the token-retrieval loss', fraction, 0.1)
    .option('--nu <x>', 'datamux / muxplm: norm of the Gaussian Hadamard vectors of a new model', positiveNum, 20)
    .option('--fresh', 'ignore a resumable state in <out> and start over')
    .action(async (o) => {
      const { finetune } = await import('../train/finetune.js');
      const { finetuneFullMux } = await import('../train/full-mux-train.js');
      const { FRESH_MODEL_TYPES } = await import('../models/presets.js');
      if (o.method !== 'siso' && !FULL_MUX_METHODS.includes(o.method))
        throw new Error(`--method ${o.method}: not one of siso, ${FULL_MUX_METHODS.join(', ')}`);
      if (o.method !== 'siso' && !o.model)
        throw new Error(
          `--method ${o.method} needs --model DIR (a BERT folder, or a MUX-PLM folder from revmux pretrain --mux)`,
        );
      if (o.method === 'siso' && o.patience !== undefined)
        throw new Error('--patience is implemented for --method datamux|muxplm; SISO fine-tuning runs --epochs');
      const task = parseTask(o.task);
      const dataDir = findGlueDir(o.data);
      if (o.method !== 'siso') {
        const r = await finetuneFullMux({
          ...o,
          method: o.method as FullMuxMethod,
          task,
          dataDir,
          warmupFraction: 0.1,
        });
        console.log(
          JSON.stringify(
            {
              method: o.method,
              n: o.n,
              best_dev_accuracy_one_pairing: r.bestDevAccuracy,
              best_step: r.bestStep,
              steps: r.steps,
              epochs_trained: r.epochsTrained,
              seconds: r.seconds,
              out: r.out,
            },
            null,
            2,
          ),
        );
        return;
      }
      if (!(FRESH_MODEL_TYPES as string[]).includes(o.arch))
        throw new Error(`--arch must be one of ${FRESH_MODEL_TYPES.join(', ')}, got ${JSON.stringify(o.arch)}`);
      const r = await finetune({ ...o, task, dataDir, warmupFraction: 0.1 });
      console.log(
        JSON.stringify(
          {
            best_dev_accuracy: r.bestDevAccuracy,
            best_step: r.bestStep,
            steps: r.steps,
            seconds: r.seconds,
            out: r.out,
          },
          null,
          2,
        ),
      );
    });
}
