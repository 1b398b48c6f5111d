// `revmux demo`: the README's first command.
import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'freeze the committed SST-2 classifier (or make one) with its committed RevMUX N=2 adapter (or train one), ' +
        'compare SISO and RevMUX accuracy over 10 pairings, measure throughput, print one summary and write plots ' +
        '(offline, minutes on 2 cores)',
    )
    .option('--cache <dir>', 'where backbones and adapters are kept between runs', '.revmux-cache')
    .option('--out <dir>', 'summary.md, summary.json and plots', 'runs/demo')
    .option(
      '--data <dir>',
      'GLUE folder (default: $REVMUX_DATA, ./data/glue or ../shared/data/glue; none = synthetic task)',
    )
    .option('--quick', 'smaller data and fewer timing rounds (about a minute)')
    .option(
      '--backbone <dir>',
      'a fine-tuned SST-2 classifier folder to freeze (default: the committed one in models/)',
    )
    .option('--from-scratch', 'fine-tune a small BERT from random weights instead of using the committed classifier')
    .option('--train-adapter', "train the RevMUX adapter here instead of using the committed classifier's")
    .option('--no-bench-base', 'skip timing the BERT-base shape')
    .action(async (o) => {
      const { runDemo } = await import('../demo/demo.js');
      await runDemo({
        cache: o.cache,
        out: o.out,
        data: o.data,
        quick: o.quick,
        benchBase: o.quick ? false : o.benchBase,
        backbone: o.backbone,
        fromScratch: o.fromScratch,
        trainAdapter: o.trainAdapter,
      });
    });
}
