// `revmux eval`: the K-pairing protocol for a trained adapter, next to the SISO accuracy.
import type { Command } from 'commander';
import { findGlueDir, parseTask } from '../data/glue.js';
import { evaluatePairings } from '../eval/pairing.js';
import { writeTextAtomic } from '../io/safetensors.js';
import { weightsHash } from '../models/hash.js';
import { loadModel } from '../models/load.js';
import { checkAdapterFits, loadAdapter, specOf } from '../mux/adapter.js';
import { prepareDevFeatures, taskHead } from '../train/mux-train.js';
import { int } from './args.js';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('accuracy of adapters on a GLUE dev set averaged over K random pairings (with std and pairing sensitivity), next to the SISO accuracy of the same backbone')
    .requiredOption('--model <dir>', 'the frozen backbone the adapters were trained on')
    .requiredOption('--adapter <dir...>', 'one or more adapter folders (same backbone and l)')
    .option('--task <name>', 'GLUE task (default: the adapter\'s)')
    .option('--pairings <k>', 'random pairings to average over', int, 10)
    .option('--seed <n>', 'seed of the pairings', int, 4141)
    .option('--limit-dev <n>', 'use only the first n dev examples', int)
    .option('--data <dir>', 'GLUE folder')
    .option('--json <file>', 'also write the results as JSON')
    .action(async (o: { model: string; adapter: string[]; task?: string; pairings: number; seed: number; limitDev?: number; data?: string; json?: string }) => {
      const dataDir = findGlueDir(o.data);
      const model = loadModel(o.model);
      const adapters = o.adapter.map((dir) => ({ dir, ...loadAdapter(dir) }));
      const hash = weightsHash(model.weights);
      for (const a of adapters) checkAdapterFits(a.config, model, {}, a.dir, hash);
      const l = adapters[0].config.l;
      if (adapters.some((a) => a.config.l !== l)) throw new Error('all adapters given to one eval must share the prefill depth l');
      const task = parseTask(o.task ?? adapters[0].config.task);
      const dev = await prepareDevFeatures(model, { model: o.model, task, dataDir, l, limitDev: o.limitDev });
      const { head } = taskHead(model, o.model, task);
      const results = [];
      for (const a of adapters) results.push({ adapter: a.dir, ...(await evaluatePairings(model, head, specOf(a.config), a.params, dev, { pairings: o.pairings, seed: o.seed })) });
      const pct = (x: number) => (100 * x).toFixed(2);
      console.log(`\n${task} dev, ${dev.count} examples, ${o.pairings} pairings; SISO accuracy ${pct(results[0].siso_accuracy)}\n`);
      console.log('| variant | N | l | accuracy (mean ± std) | pairing sensitivity | agrees with SISO |');
      console.log('| --- | --- | --- | --- | --- | --- |');
      console.log(`| siso | 1 | - | ${pct(results[0].siso_accuracy)} | 0 | 100 |`);
      for (const r of results) console.log(`| ${r.variant} | ${r.n} | ${r.l} | ${pct(r.mean)} ± ${pct(r.std)} | ${pct(r.pairing_sensitivity)} | ${pct(r.agreement_with_siso)} |`);
      const json = { task, examples: dev.count, pairings: o.pairings, seed: o.seed, siso_accuracy: results[0].siso_accuracy, results };
      console.log(`\n${JSON.stringify(json, null, 2)}`);
      if (o.json) writeTextAtomic(o.json, JSON.stringify(json, null, 2) + '\n');
    });
}
