// `revmux eval`: the K-pairing protocol, next to the SISO accuracy of the backbone, for adapters
// trained on it (RevMUX, ORA, vanilla) and for whole-model baselines (DataMUX, MUX-PLM folders),
// all on the same pairings so one table compares them.
import type { Command } from 'commander';
import { findGlueDir, parseTask } from '../data/glue.js';
import type { PairingResult } from '../eval/pairing.js';
import type { Precision } from '../nn/precision.js';
import { PRECISION_HELP, int, positiveInt, precision } from './args.js';

interface EvalArgs {
  model: string;
  adapter?: string[];
  muxModel?: string[];
  task?: string;
  pairings: number;
  seed: number;
  limitDev?: number;
  data?: string;
  json?: string;
  precision: Precision;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'accuracy on a GLUE dev set averaged over K random pairings (with std and pairing sensitivity), next to the ' +
        'SISO accuracy of the backbone: adapters trained on it and DataMUX / MUX-PLM models (none: the backbone alone)',
    )
    .requiredOption('--model <dir>', "the frozen backbone: the adapters' base and the SISO reference")
    .option('--adapter <dir...>', 'adapter folders (same backbone and l) from revmux train')
    .option('--mux-model <dir...>', 'DataMUX / MUX-PLM folders from revmux finetune --method')
    .option('--task <name>', "GLUE task (default: the first adapter's or model's)")
    .option('--pairings <k>', 'random pairings to average over', positiveInt, 10)
    .option('--seed <n>', 'seed of the pairings', int, 4141)
    .option('--limit-dev <n>', 'use only the first n dev examples', positiveInt)
    .option('--data <dir>', 'GLUE folder')
    .option('--json <file>', 'also write the results as JSON')
    .option('--precision <p>', `${PRECISION_HELP}; the SISO reference runs in it too`, precision, 'fp32')
    .action(async (o: EvalArgs) => {
      const { evaluateFullMux } = await import('../eval/full-mux.js');
      const { evaluatePairings, sisoAccuracy } = await import('../eval/pairing.js');
      const { writeTextAtomic } = await import('../io/safetensors.js');
      const { weightsHash } = await import('../models/hash.js');
      const { loadModel } = await import('../models/load.js');
      const { checkAdapterFits, loadAdapter, specOf } = await import('../mux/adapter.js');
      const { loadFullMux } = await import('../baselines/full-model.js');
      const { prepareDevFeatures, taskHead } = await import('../mux/task-features.js');
      const adapterDirs = o.adapter ?? [];
      const muxDirs = o.muxModel ?? [];
      if (!adapterDirs.length && !muxDirs.length && !o.task)
        throw new Error(
          'revmux eval: with no --adapter or --mux-model, say which task the backbone alone is scored on (--task)',
        );
      const muxModels = muxDirs.map((dir) => ({ dir, ...loadFullMux(dir) })); // first: a wrong folder fails fast
      const dataDir = findGlueDir(o.data);
      const model = loadModel(o.model, { precision: o.precision });
      const adapters = adapterDirs.map((dir) => ({ dir, ...loadAdapter(dir) }));
      const hash = weightsHash(model.weights);
      for (const a of adapters) checkAdapterFits(a.config, model, {}, a.dir, hash);
      const l = adapters[0]?.config.l ?? 0;
      if (adapters.some((a) => a.config.l !== l))
        throw new Error('all adapters given to one eval must share the prefill depth l');
      const taskName = o.task ?? adapters[0]?.config.task ?? muxModels[0]?.config.task;
      if (!taskName) throw new Error('revmux eval: say which task with --task');
      const task = parseTask(taskName);
      for (const m of muxModels)
        if (m.config.task !== task) throw new Error(`${m.dir}: trained on ${m.config.task}, evaluated on ${task}`);
      const dev = await prepareDevFeatures(model, { model: o.model, task, dataDir, l, limitDev: o.limitDev });
      const { head } = taskHead(model, o.model, task);
      const opts = { pairings: o.pairings, seed: o.seed };
      const results: ({ adapter?: string; mux_model?: string } & PairingResult)[] = [];
      for (const a of adapters)
        results.push({
          adapter: a.dir,
          ...(await evaluatePairings(model, head, specOf(a.config), a.params, dev, opts)),
        });
      for (const m of muxModels)
        results.push({
          mux_model: m.dir,
          ...(await evaluateFullMux(m.dir, task, dataDir, dev, { ...opts, limitDev: o.limitDev })),
        });
      const pct = (x: number) => (100 * x).toFixed(2);
      // with no adapter nor multiplexed model: the backbone's own (SISO) accuracy
      const siso = sisoAccuracy(dev);
      console.log(
        `\n${task} dev, ${dev.count} examples, ${o.pairings} pairings, backbone in ${o.precision}; SISO accuracy ` +
          `${pct(siso)}\n`,
      );
      console.log('| variant | N | l | accuracy (mean ± std) | pairing sensitivity | agrees with SISO |');
      console.log('| --- | --- | --- | --- | --- | --- |');
      console.log(`| siso | 1 | - | ${pct(siso)} | 0 | 100 |`);
      for (const r of results)
        console.log(
          `| ${r.variant}${r.mux_model ? ' (whole model trained)' : ''} | ${r.n} | ${r.mux_model ? '-' : r.l} | ` +
            `${pct(r.mean)} ± ${pct(r.std)} | ${pct(r.pairing_sensitivity)} | ${pct(r.agreement_with_siso)} |`,
        );
      const json = {
        task,
        precision: o.precision,
        examples: dev.count,
        pairings: o.pairings,
        seed: o.seed,
        siso_accuracy: siso,
        results,
      };
      console.log(`\n${JSON.stringify(json, null, 2)}`);
      if (o.json) writeTextAtomic(o.json, JSON.stringify(json, null, 2) + '\n');
    });
}
