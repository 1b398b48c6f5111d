// `revmux bench`: measured multiplexed vs SISO throughput against the theoretical bound, with plots.
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { findGlueDir, loadExamples, parseTask } from '../data/glue.js';
import type { Backbone } from '../models/backbone.js';
import { cpuInfo } from '../engine/cpu.js';
import type { ParamSet } from '../engine/params.js';
import { FULL_MUX_METHODS, isFullMuxMethod } from '../baselines/methods.js';
import type { BenchMethod } from '../eval/throughput.js';
import { MUX_VARIANTS } from '../mux/variant-names.js';
import { int, intList, nonNegativeInt, positiveInt, precisionList } from './args.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'throughput of multiplexed vs single-input inference, interleaved in one run, against the theoretical speedup; ' +
        'JSON, a markdown table and PNG/SVG plots',
    )
    .option('--model <dir>', 'a model folder')
    .option(
      '--random <name>',
      'random weights of a known shape: FAMILY-SIZE (bert, llama, t5 x tiny, mini, small, medium, base; ' +
        'llama-base is the LLaMA layout at BERT-base size), or the public shapes t5-small, llama-tiny',
    )
    .option(
      '--adapter <dir...>',
      'trained adapter folders to time (else random adapter weights: speed does not depend on them)',
    )
    .option(
      '--variants <list>',
      'comma-separated: revmux, ora, vanilla (at each l); datamux, muxplm (whole-model multiplexing of a BERT, ' +
        'l = 0, fp32, random heads)',
      'revmux',
    )
    .option('-n, --n <list>', 'N values', intList, [1, 2, 4, 8, 16])
    .option('-l, --l <list>', 'prefill layers (default: a quarter of the layers)', intList)
    .option('--batch <n>', 'examples per batch', positiveInt, 32)
    .option('--seq <n>', 'tokens per example', positiveInt, 128)
    .option(
      '--task <name>',
      'sample example lengths from this GLUE dev set instead of a fixed --seq (needs a tokenizer)',
    )
    .option(
      '--tokenizer <dir>',
      'tokenizer for --task (default: the model folder, else bert-base-uncased from ../shared/data)',
    )
    .option('--rounds <n>', 'measured rounds (each times SISO and the variant)', positiveInt, 10)
    .option('--warmup <n>', 'unmeasured rounds first', nonNegativeInt, 2)
    .option(
      '--eval <files...>',
      'revmux eval --json results (or experiment:table JSON), for the accuracy vs speedup plot',
    )
    .option('--out <dir>', 'where to write bench.json, bench.md and the plots', 'runs/bench')
    .option('--seed <n>', 'seed', int, 0)
    .option(
      '--precision <list>',
      'comma-separated fp32, int8: each multiplexed (and N = 1) graph in these precisions, every one timed against ' +
        'SISO fp32',
      precisionList,
      ['fp32'],
    )
    .action(async (o) => {
      const { TextTokenizer } = await import('../io/tokenizer.js');
      const { accuracyChart, renderChart, speedupChart } = await import('../eval/plots.js');
      const { measureThroughput } = await import('../eval/throughput.js');
      const { writeTextAtomic } = await import('../io/safetensors.js');
      const { weightsHash } = await import('../models/hash.js');
      const { loadModel } = await import('../models/load.js');
      const { randomModel } = await import('../models/random-presets.js');
      const { checkAdapterFits, loadAdapter } = await import('../mux/adapter.js');
      const { defaultThreads } = await import('../engine/runtime.js');
      if (!!o.model === !!o.random) throw new Error('give exactly one of --model DIR or --random NAME');
      const model: Backbone = o.model ? loadModel(o.model) : randomModel(o.random);
      const variants = String(o.variants)
        .split(',')
        .map((v: string) => v.trim()) as BenchMethod[];
      const known: readonly string[] = [...MUX_VARIANTS, ...FULL_MUX_METHODS];
      for (const v of variants)
        if (!known.includes(v)) throw new Error(`--variants: unknown variant '${v}' (known: ${known.join(', ')})`);
      const whole = variants.filter(isFullMuxMethod);
      if (whole.length && !o.precision.includes('fp32'))
        throw new Error(`--variants ${whole.join(', ')}: timed in fp32 only, and --precision has no fp32`);
      const adapters = new Map<string, ParamSet>();
      const hash = o.adapter?.length ? weightsHash(model.weights) : undefined;
      for (const dir of o.adapter ?? []) {
        const a = loadAdapter(dir);
        checkAdapterFits(a.config, model, {}, dir, hash);
        adapters.set(`${a.config.variant}:${a.config.n}:${a.config.l}`, a.params);
      }
      const ls: number[] = o.l ?? [Math.max(1, Math.round(model.numLayers / 4))];
      let seq: number | number[] = o.seq;
      let tokenizeMsPerBatch: number | null = null;
      if (o.task) {
        const task = parseTask(o.task);
        const tokDir =
          o.tokenizer ??
          (o.model && fs.existsSync(path.join(o.model, 'tokenizer.json'))
            ? o.model
            : '../shared/data/tokenizers/bert-base-uncased');
        const tok = TextTokenizer.load(tokDir);
        const dev = loadExamples(task, 'dev', findGlueDir());
        const t0 = process.hrtime.bigint();
        const lengths = dev.map((e) => tok.encode(e.textA, e.textB ?? null, { maxLength: o.seq }).ids.length);
        tokenizeMsPerBatch = (Number(process.hrtime.bigint() - t0) / 1e6 / dev.length) * o.batch;
        seq = lengths;
      }
      const t0 = Date.now();
      const r = await measureThroughput(model, {
        variants,
        ns: o.n,
        ls,
        batch: o.batch,
        seq,
        rounds: o.rounds,
        warmup: o.warmup,
        seed: o.seed,
        adapters,
        precisions: o.precision,
        log: (s) => console.error(s),
      });
      const name = o.model ? path.basename(path.resolve(o.model)) : `random ${o.random}`;
      const json = {
        benchmark: 'revmux bench',
        // the options as given, so a table can be measured again the same way
        command: ['revmux', ...process.argv.slice(2)].join(' '),
        model: name,
        model_type: model.modelType,
        layers: model.numLayers,
        hidden: model.hiddenSize,
        batch: o.batch,
        seq: o.task ? { task: o.task, padded_to: r.seqUsed } : o.seq,
        tokenize_ms_per_batch: tokenizeMsPerBatch,
        threads: defaultThreads(),
        ...cpuInfo(),
        rounds: o.rounds,
        peak_rss_mb: r.peakRssMb,
        seconds: (Date.now() - t0) / 1000,
        results: r.rows,
      };
      fs.mkdirSync(o.out, { recursive: true });
      writeTextAtomic(path.join(o.out, 'bench.json'), JSON.stringify(json, null, 2) + '\n');
      const md = [
        `${name}, batch ${o.batch}, ${o.task ? `${o.task} dev lengths (padded to ${r.seqUsed})` : `seq ${o.seq}`}, ` +
          `${json.threads} threads, ${o.rounds} interleaved rounds, peak RSS ${r.peakRssMb} MB, ` +
          `${json.cpu} (${json.cpu_simd.join(', ') || 'SIMD unknown'})`,
        '',
        `\`${json.command}\``,
        '',
        "speedup: over SISO fp32; same precision: over SISO in the row's precision (timed in the same rounds), which " +
          'is what the bounds and "achieved" refer to.',
        '',
        '| variant | N | l | precision | SISO fp32 ms | mux ms | SISO ex/s | mux ex/s | speedup | same precision | ' +
          'bound (backbone) | bound (FLOPs) | achieved |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...r.rows.map(
          (x) =>
            `| ${x.variant} | ${x.n} | ${x.l} | ${x.precision} | ${x.siso_ms_median} | ${x.mux_ms_median} | ` +
            `${x.siso_examples_per_s} | ${x.mux_examples_per_s} | ${x.speedup}x | ${x.speedup_same_precision}x | ` +
            `${x.bound_backbone}x | ${x.bound_flops}x | ${(100 * x.fraction_of_bound).toFixed(0)}% |`,
        ),
      ].join('\n');
      writeTextAtomic(path.join(o.out, 'bench.md'), md + '\n');
      const plots = [
        await renderChart(
          speedupChart(
            r.rows
              .filter((x) => x.variant === variants[0] && x.precision === o.precision[0])
              .map((x) => ({ l: x.l, n: x.n, measured: x.speedup, theoretical: x.bound_flops })),
            `${name}: speedup over SISO`,
          ),
          path.join(o.out, 'speedup'),
        ),
      ];
      if (o.eval) {
        const points = [];
        for (const f of o.eval as string[]) {
          const ev = JSON.parse(fs.readFileSync(f, 'utf8'));
          points.push({ label: 'SISO', speedup: 1, accuracy: 100 * ev.siso_accuracy });
          for (const res of ev.results ?? ev.rows ?? []) {
            const speed = r.rows.find((x) => x.variant === res.variant && x.n === res.n && x.l === res.l);
            if (speed)
              points.push({ label: `${res.variant} N=${res.n}`, speedup: speed.speedup, accuracy: 100 * res.mean });
          }
        }
        plots.push(
          await renderChart(
            accuracyChart(points, `${name}: accuracy vs speedup`),
            path.join(o.out, 'accuracy-vs-speedup'),
          ),
        );
      }
      console.log(md);
      console.log(
        `\nwrote ${path.join(o.out, 'bench.json')}, bench.md, ` +
          `${plots.map((p) => path.basename(p.png)).join(', ')} (+ ` +
          `.svg)`,
      );
      console.log(JSON.stringify(json, null, 2));
    });
}
