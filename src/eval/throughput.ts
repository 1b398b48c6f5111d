// Multiplexed vs single-input throughput, measured side by side (spec §8, issue #6).
// Each configuration is timed in rounds that alternate SISO and multiplexed batches, so a slow
// phase of a shared machine hits both; only the model is timed (inputs are prepared beforehand).
import { fullMuxBenchGraph, groupFeeds } from '../baselines/full-mux-graph.js';
import { type FullMuxMethod, isFullMuxMethod } from '../baselines/methods.js';
import { compile } from '../engine/runtime.js';
import { Rng } from '../engine/random.js';
import type { Backbone } from '../models/backbone.js';
import { dims } from '../models/registry.js';
import type { ParamSet } from '../engine/params.js';
import { tokenFeeds } from '../mux/features.js';
import { fusedMuxGraph, fusedSisoGraph } from '../mux/graphs.js';
import { type MuxSpec, type MuxVariant, initAdapter } from '../mux/spec.js';
import { fullMuxFlops, muxFlops, sisoFlops, theoreticalSpeedup } from './flops.js';
import { median, quantile, round } from './stats.js';
import type { Precision } from '../nn/quantize.js';

/** An adapter variant at each l, or a whole-model baseline (DataMUX, MUX-PLM: l = 0, fp32 only, random heads). */
export type BenchMethod = MuxVariant | FullMuxMethod;

export interface ThroughputOptions {
  variants: BenchMethod[];
  ns: number[];
  ls: number[];
  batch: number;
  /** Sequence length of every example, or a list of real lengths to sample from. */
  seq: number | number[];
  rounds: number;
  warmup: number;
  seed: number;
  /** Trained adapters by `${variant}:${n}:${l}`; random adapter weights otherwise (speed does not depend on them). */
  adapters?: Map<string, ParamSet>;
  labelIds?: [number, number];
  /** Precisions of the multiplexed (and N = 1) graphs; every row is also timed against SISO fp32. Default fp32. */
  precisions?: Precision[];
  log?: (s: string) => void;
}

export interface ThroughputRow {
  variant: string;
  n: number;
  l: number;
  /** Of the backbone in the timed graph (the SISO reference is always fp32). */
  precision: Precision;
  /** SISO in float32: the reference of `speedup`. */
  siso_ms_median: number;
  mux_ms_median: number;
  siso_ms_p95: number;
  mux_ms_p95: number;
  siso_examples_per_s: number;
  mux_examples_per_s: number;
  speedup: number;
  /** SISO in the row's precision, timed in the same rounds (int8 rows only; fp32 rows: = siso_ms_median). */
  siso_same_precision_ms_median: number;
  /** Over SISO in the row's precision: what multiplexing alone gives, compared with the bounds. */
  speedup_same_precision: number;
  /** L / (l + (L - l) / N): the backbone-only bound. */
  bound_backbone: number;
  /** SISO FLOPs / multiplexed FLOPs, adapters included. */
  bound_flops: number;
  /** speedup_same_precision / bound_flops. */
  fraction_of_bound: number;
  rss_mb_after: number;
}

/** Builds a graph with the model's frozen Linear layers in `precision`, leaving the model as it was. */
function inPrecision<T>(model: Backbone, precision: Precision, build: () => T): T {
  const before = model.weights.precision;
  model.weights.precision = precision;
  try {
    return build();
  } finally {
    model.weights.precision = before;
  }
}

async function timeIt(run: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function measureThroughput(
  model: Backbone,
  o: ThroughputOptions,
): Promise<{ rows: ThroughputRow[]; seqUsed: number; peakRssMb: number }> {
  const log = o.log ?? (() => {});
  const head = model.taskHead({ labelIds: o.labelIds ?? [0, 1] }); // random models: no tokenizer
  const rng = new Rng(o.seed);
  const V = model.config.vocab_size;
  const lengths = Array.from({ length: o.batch }, () => (Array.isArray(o.seq) ? o.seq[rng.int(o.seq.length)] : o.seq));
  const S = Math.max(...lengths);
  const items = lengths.map((len) => ({
    ids: Array.from({ length: len }, () => 1000 + rng.int(Math.max(1, V - 1000))),
    typeIds: new Array(len).fill(0),
  }));
  const precisions = o.precisions ?? ['fp32'];
  const siso = await compile(inPrecision(model, 'fp32', () => fusedSisoGraph(model, head)));
  const padId = dims(model.config).padId;
  const sisoFeeds = tokenFeeds(model, items, null, padId);
  const sisoF = sisoFlops(model.config, S).total;
  // what a row times against SISO: its graph, feeds, FLOPs per example and the l it reports; null: no such row
  const muxUnderTest = async (variant: BenchMethod, n: number, l: number, precision: Precision) => {
    if (isFullMuxMethod(variant)) {
      // the whole model multiplexes from the embeddings: one row per N (l = 0), whatever the adapters' l
      if (n === 1 || l !== o.ls[0] || precision !== 'fp32') return null;
      const { graph, settings } = fullMuxBenchGraph(model, variant, n, o.seed);
      const feeds = groupFeeds(settings, items, padId).feeds;
      return { session: await compile(graph), feeds, flops: fullMuxFlops(model.config, settings, S), l: 0 };
    }
    const spec: MuxSpec = { variant, n, l, d: model.hiddenSize, dropout: 0 };
    const params = o.adapters?.get(`${variant}:${n}:${l}`) ?? initAdapter(spec, o.seed);
    const session = await compile(inPrecision(model, precision, () => fusedMuxGraph(model, head, spec, params)));
    return { session, feeds: tokenFeeds(model, items, n, padId), flops: muxFlops(model.config, spec, S).total, l };
  };
  let peak = 0;
  const rows: ThroughputRow[] = [];
  for (const precision of precisions) {
    const sisoSame =
      precision === 'fp32' ? siso : await compile(inPrecision(model, precision, () => fusedSisoGraph(model, head)));
    for (const l of o.ls)
      for (const n of o.ns)
        for (const variant of o.variants) {
          if (n === 1 && variant !== o.variants[0]) continue; // N = 1 is the same for every variant
          const m = await muxUnderTest(variant, n, l, precision);
          if (!m) continue;
          const mux = m.session;
          const runs = [() => siso.run(sisoFeeds), () => mux.run(m.feeds)];
          if (sisoSame !== siso) runs.push(() => sisoSame.run(sisoFeeds));
          const times: number[][] = runs.map(() => []);
          for (let r = 0; r < o.warmup + o.rounds; r++) {
            // rotate which goes first, so none always follows another
            for (let k = 0; k < runs.length; k++) {
              const i = (r + k) % runs.length;
              const t = await timeIt(runs[i]);
              if (r >= o.warmup) times[i].push(t);
            }
          }
          await mux.release();
          const rss = process.memoryUsage().rss / 2 ** 20;
          peak = Math.max(peak, rss);
          const [sm, mm] = [median(times[0]), median(times[1])];
          const same = times[2] ? median(times[2]) : sm;
          const bound = sisoF / m.flops;
          const row: ThroughputRow = {
            variant,
            n,
            l: m.l,
            precision,
            siso_ms_median: round(sm, 2),
            mux_ms_median: round(mm, 2),
            siso_ms_p95: round(quantile(times[0], 0.95), 2),
            mux_ms_p95: round(quantile(times[1], 0.95), 2),
            siso_examples_per_s: round((o.batch * 1000) / sm, 1),
            mux_examples_per_s: round((o.batch * 1000) / mm, 1),
            speedup: round(sm / mm, 3),
            siso_same_precision_ms_median: round(same, 2),
            speedup_same_precision: round(same / mm, 3),
            bound_backbone: round(theoreticalSpeedup(model.numLayers, m.l, n), 3),
            bound_flops: round(bound, 3),
            fraction_of_bound: round(same / mm / bound, 3),
            rss_mb_after: Math.round(rss),
          };
          rows.push(row);
          const vsSame = precision === 'fp32' ? '' : `, ${row.speedup_same_precision}x over SISO ${precision}`;
          log(
            `${variant} N=${n} l=${m.l} ${precision}: SISO fp32 ${row.siso_ms_median} ms, ` +
              `mux ${row.mux_ms_median} ms, ` +
              `speedup ${row.speedup}${vsSame} (bound ${row.bound_flops}, ` +
              `${(100 * row.fraction_of_bound).toFixed(0)}%)`,
          );
        }
    if (sisoSame !== siso) await sisoSame.release();
  }
  return { rows, seqUsed: S, peakRssMb: Math.round(peak) };
}
