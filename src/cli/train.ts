// `revmux train`: train multiplexing adapters on a frozen backbone.
import type { Command } from 'commander';
import { findGlueDir, parseTask } from '../data/glue.js';
import { MUX_VARIANTS, type MuxVariant } from '../mux/variant-names.js';
import {
  PRECISION_HELP,
  fraction,
  int,
  nonNegativeInt,
  nonNegativeNum,
  positiveInt,
  positiveNum,
  precision,
} from './args.js';

export function variantArg(v: string): MuxVariant {
  if (!MUX_VARIANTS.includes(v as MuxVariant))
    throw new Error(`--variant must be one of ${MUX_VARIANTS.join(', ')}, got '${v}'`);
  return v as MuxVariant;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'train multiplexing adapters (revmux, ora or vanilla) on a frozen backbone; writes adapter_config.json + ' +
        'adapter.safetensors of the best dev-accuracy step',
    )
    .requiredOption(
      '--model <dir>',
      'frozen backbone folder (for BERT a fine-tuned classifier, e.g. from revmux finetune)',
    )
    .requiredOption('--task <name>', 'sst2, mrpc, rte, qnli, or synthetic (built in, no data needed)')
    .requiredOption('--out <dir>', 'adapter output folder (resumable state in <out>/.train-state)')
    .option('--variant <name>', 'revmux, ora or vanilla', variantArg, 'revmux')
    .option('-n, --n <N>', 'instances multiplexed per row', positiveInt, 2)
    .option('-l, --l <layers>', 'prefill layers run per instance before mixing', nonNegativeInt, 1)
    .option('--epochs <n>', 'epochs (pairings change every epoch)', positiveInt, 3)
    .option(
      '--patience <n>',
      'stop after n evaluations in a row without a better dev accuracy (--epochs is then the cap)',
      positiveInt,
    )
    .option('--batch-size <n>', 'instances per step', positiveInt, 32)
    .option('--lr <x>', 'constant AdamW learning rate', positiveNum, 1e-3)
    .option('--lambda <x>', 'InfoNCE weight (default 0.25 for BERT revmux/ora, else 0.5)', nonNegativeNum)
    .option('--mu <x>', 'mapping-loss weight (0 disables)', nonNegativeNum, 1)
    .option('--dropout <p>', 'adapter dropout', fraction, 0.1)
    .option('--no-backbone-dropout', 'turn off dropout in the frozen layers while training')
    .option('--seed <n>', 'seed for init, pairings and dropout', int, 42)
    .option('--max-length <n>', 'tokens per example', positiveInt, 128)
    .option('--select-pairings <k>', 'dev pairings averaged to pick the best step', positiveInt, 1)
    .option('--eval-every <n>', 'evaluate + checkpoint every n steps (default: each epoch)', positiveInt)
    .option('--limit-train <n>', 'use only the first n training examples', positiveInt)
    .option('--data <dir>', 'GLUE folder (default: $REVMUX_DATA, ./data/glue or ../shared/data/glue)')
    .option('--fresh', 'ignore a resumable state in <out> and start over')
    .option(
      '--precision <p>',
      `the frozen backbone in ${PRECISION_HELP}; the backward pass uses the dequantized weights`,
      precision,
      'fp32',
    )
    .action(async (o) => {
      const { trainMux } = await import('../train/mux-train.js');
      const dataDir = findGlueDir(o.data);
      const r = await trainMux({ ...o, task: parseTask(o.task), dataDir });
      console.log(
        JSON.stringify(
          {
            best_dev_accuracy: r.bestDevAccuracy,
            siso_dev_accuracy: r.sisoDevAccuracy,
            best_step: r.bestStep,
            steps: r.steps,
            seconds: r.seconds,
            train_examples_per_s: r.trainExamplesPerSecond,
          },
          null,
          2,
        ),
      );
    });
}
