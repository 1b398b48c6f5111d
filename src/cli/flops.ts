// `revmux flops`: analytic per-example inference FLOPs, SISO and multiplexed, and a dev set's total.
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { findGlueDir, loadExamples, parseTask } from '../data/glue.js';
import { MUX_VARIANTS, type MuxVariant } from '../mux/variant-names.js';
import { intList, nonNegativeInt, positiveInt } from './args.js';

export function registerFlops(program: Command): void {
  program
    .command('flops')
    .description(
      'per-example inference FLOPs of SISO and each multiplexing variant, and the TFLOPs to run a GLUE dev set (cf. ' +
        "the paper's inference-cost table)",
    )
    .option('--model <dir>', 'a model folder (only config.json is read)')
    .option(
      '--random <name>',
      'a known shape instead: FAMILY-SIZE (bert, llama, t5 x tiny, mini, small, medium, base), ' +
        'or the public shapes t5-small, llama-tiny',
      'bert-base',
    )
    .option('--variants <list>', 'comma-separated variants', MUX_VARIANTS.join(','))
    .option('-n, --n <list>', 'N values', intList, [2, 4, 8, 16])
    .option('-l, --l <n>', 'prefill layers', nonNegativeInt)
    .option('--seq <n>', 'tokens per example (when no --task)', positiveInt, 128)
    .option('--task <name>', "sum over this GLUE dev set's real lengths (tokenizer: model folder or bert-base-uncased)")
    .option('--json', 'print JSON only')
    .action(async (o) => {
      const { muxFlops, sisoFlops, theoreticalSpeedup } = await import('../eval/flops.js');
      const { TextTokenizer } = await import('../io/tokenizer.js');
      const { readConfig } = await import('../models/config.js');
      const { dims } = await import('../models/registry.js');
      const { randomModel } = await import('../models/random-presets.js');
      const { VARIANTS } = await import('../mux/variants.js');
      const config = o.model ? readConfig(o.model) : randomModel(o.random).config;
      const { layers: L, hidden: d } = dims(config);
      const l = o.l ?? Math.round(L / 2);
      let lengths: number[] = [o.seq];
      if (o.task) {
        const tokDir =
          o.model && fs.existsSync(path.join(o.model, 'tokenizer.json'))
            ? o.model
            : '../shared/data/tokenizers/bert-base-uncased';
        const tok = TextTokenizer.load(tokDir);
        lengths = loadExamples(parseTask(o.task), 'dev', findGlueDir()).map(
          (e) => tok.encode(e.textA, e.textB ?? null, { maxLength: 512 }).ids.length,
        );
      }
      const total = (f: (S: number) => number) => lengths.reduce((a, S) => a + f(S), 0);
      const rows: Record<string, unknown>[] = [
        {
          variant: 'siso',
          n: 1,
          l: L,
          gflops_per_example: total((S) => sisoFlops(config, S).total) / lengths.length / 1e9,
          dev_tflops: o.task ? total((S) => sisoFlops(config, S).total) / 1e12 : null,
          speedup_bound: 1,
        },
      ];
      for (const variant of String(o.variants).split(',') as MuxVariant[])
        for (const n of o.n as number[]) {
          if (VARIANTS[variant].slotsOfDOverN && d % n) continue;
          const spec = { variant, n, l, d, dropout: 0 };
          const mux = total((S) => muxFlops(config, spec, S).total);
          const siso = total((S) => sisoFlops(config, S).total);
          rows.push({
            variant,
            n,
            l,
            gflops_per_example: mux / lengths.length / 1e9,
            dev_tflops: o.task ? mux / 1e12 : null,
            speedup_bound: siso / mux,
            backbone_bound: theoreticalSpeedup(L, l, n),
          });
        }
      const fmt = (x: unknown) =>
        typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(3)) : String(x ?? '-');
      if (!o.json) {
        console.log(
          `${o.model ?? o.random}: ${config.model_type}, ${L} layers, d = ${d}; ` +
            (o.task
              ? `${o.task} dev (${lengths.length} examples, ` +
                `mean length ${(lengths.reduce((a, b) => a + b, 0) / lengths.length).toFixed(1)})`
              : `seq ${o.seq}`) +
            `; l = ${l}\n`,
        );
        console.log('| variant | N | l | GFLOPs / example | dev TFLOPs | bound with adapters | backbone bound |');
        console.log('| --- | --- | --- | --- | --- | --- | --- |');
        for (const r of rows)
          console.log(
            `| ${r.variant} | ${r.n} | ${r.l} | ${fmt(r.gflops_per_example)} | ${fmt(r.dev_tflops)} | ` +
              `${fmt(r.speedup_bound)}x | ${fmt(r.backbone_bound ?? 1)}x |`,
          );
        console.log('');
      }
      console.log(
        JSON.stringify({ model: o.model ?? o.random, layers: L, l, examples: lengths.length, rows }, null, 2),
      );
    });
}
