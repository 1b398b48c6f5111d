// `revmux average-weights`: checkpoint averaging of model folders of one shape (src/models/average.ts).
import type { Command } from 'commander';

export function registerAverage(program: Command): void {
  program
    .command('average-weights')
    .description(
      'write the element-wise mean of the weights of two or more model folders of one architecture and shape ' +
        '(for example the ends of two pretraining stages) as a new folder, with average.json naming the sources',
    )
    .requiredOption('--model <dir...>', 'the model folders to average, each counting equally')
    .requiredOption('--out <dir>', 'output folder (config and tokenizer are copied from the first --model)')
    .action(async (o: { model: string[]; out: string }) => {
      const { averageModels } = await import('../models/average.js');
      averageModels(o.model, o.out);
      console.log(`wrote ${o.out}: the mean of ${o.model.join(', ')}`);
    });
}
