// The results page's charts (vega-lite specs): accuracy against N beside the paper's, and accuracy
// against measured speed-up.
import type { TopLevelSpec } from 'vega-lite';
import { paperBackbone } from './paper-numbers.js';
import type { Agg, CellRecord } from './results-cells.js';
import { type BenchFile, benchName, benchRow } from './results-speed.js';

/** Accuracy against measured speed-up, one panel per benchmarked model: every cell with a speed-up there. */
export function accuracySpeedChart(
  title: string,
  aggs: Agg[],
  benches: BenchFile[],
  layers: number,
): TopLevelSpec | null {
  const values = benches.flatMap((b) => [
    { bench: benchName(b), label: 'SISO', variant: 'SISO', speedup: 1, accuracy: 100 * aggs[0].siso },
    ...aggs.flatMap((a) => {
      const r = benchRow(b, a, layers);
      const label = `N=${a.n} l=${a.l}`;
      return r ? [{ bench: benchName(b), label, variant: a.variant, speedup: r.speedup, accuracy: 100 * a.acc }] : [];
    }),
  ]);
  if (values.length <= benches.length) return null;
  const x = {
    field: 'speedup',
    type: 'quantitative',
    scale: { zero: false },
    title: 'measured speed-up over SISO',
  } as const;
  const y = { field: 'accuracy', type: 'quantitative', scale: { zero: false }, title: 'dev accuracy (%)' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { column: { field: 'bench', type: 'nominal', title: 'speed measured on' } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 320,
      height: 240,
      layer: [
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y, color: { field: 'variant' } } },
        { mark: { type: 'text', dx: 4, align: 'left', fontSize: 8 }, encoding: { x, y, text: { field: 'label' } } },
      ],
    },
  };
}

/**
 * Accuracy against N, every variant of the main table; beside it, in its own panel and y scale, the paper's
 * numbers for the same family and task (its backbone is far larger, so the panels share only the x axis).
 */
export function accuracyByNChart(title: string, c0: CellRecord, main: Agg[]): TopLevelSpec {
  const ours = `ours: ${c0.backbone}, ${c0.backbone_layers} layers, d = ${c0.backbone_hidden} (CPU)`;
  const paper = paperBackbone(c0.backbone_type ?? 'bert');
  const task = c0.task as 'sst2';
  const paperValues = paper
    ? [
        ...(paper.siso && task in paper.siso
          ? [{ source: paper.name, variant: 'SISO', n: 1, accuracy: paper.siso[task] }]
          : []),
        ...Object.entries(paper.cells)
          .filter(([variant]) => main.some((a) => a.variant === variant))
          .flatMap(([variant, byN]) =>
            Object.entries(byN).flatMap(([n, r]) =>
              task in r ? [{ source: paper.name, variant, n: +n, accuracy: r[task] }] : [],
            ),
          ),
      ]
    : [];
  const values = [
    { source: ours, variant: 'SISO', n: 1, accuracy: 100 * main[0].siso },
    ...main.map((a) => ({ source: ours, variant: a.variant, n: a.n, accuracy: 100 * a.acc })),
    ...paperValues,
  ];
  const ns = [...new Set(values.map((v) => v.n))].sort((a, b) => a - b);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { column: { field: 'source', type: 'nominal', title: null, sort: [ours] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 320,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'n',
          type: 'quantitative',
          scale: { type: 'log', base: 2 },
          axis: { values: ns, format: 'd' },
          title: 'N',
        },
        y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, title: 'dev accuracy (%)' },
        color: { field: 'variant', type: 'nominal' },
      },
    },
  };
}
