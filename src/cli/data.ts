// `revmux data download`: GLUE from its public sources, for machines with internet access.
import type { Command } from 'commander';
import { downloadGlue } from '../data/download.js';
import { GLUE_TASKS, type GlueTask, parseTask } from '../data/glue.js';

export function registerData(program: Command): void {
  const data = program.command('data').description('datasets');
  data
    .command('download')
    .description('download GLUE SST-2, MRPC, RTE, QNLI from their public sources into <dir>/<Task>/{train,dev}.tsv (needs internet access)')
    .option('--dir <dir>', 'where to put them', 'data/glue')
    .option('--tasks <list>', 'comma-separated tasks', GLUE_TASKS.join(','))
    .action(async (o: { dir: string; tasks: string }) => {
      const tasks = o.tasks.split(',').map((t) => parseTask(t.trim())).filter((t): t is GlueTask => t !== 'synthetic');
      await downloadGlue(o.dir, tasks);
    });
}
