// Charts rendered offline: a Vega-Lite spec compiled by vega-lite, drawn to SVG by vega's headless
// renderer, rasterised to PNG by resvg. No browser, no network.
import fs from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile as compileVl, type TopLevelSpec } from 'vega-lite';

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function renderChart(spec: TopLevelSpec, base: string): Promise<{ svg: string; png: string }> {
  const view = new vega.View(vega.parse(compileVl(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  fs.mkdirSync(path.dirname(path.resolve(base)), { recursive: true });
  fs.writeFileSync(`${base}.svg`, svg);
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true },
  })
    .render()
    .asPng();
  fs.writeFileSync(`${base}.png`, png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}

export interface SpeedupPoint {
  l: number;
  n: number;
  measured: number;
  theoretical: number;
}

/** Speedup over SISO vs N, one colour per prefill depth l: measured (points+line) vs theory (dashed). */
export function speedupChart(points: SpeedupPoint[], title: string): TopLevelSpec {
  const rows = points.flatMap((p) => [
    { N: p.n, l: `l = ${p.l}`, kind: 'measured', speedup: p.measured },
    { N: p.n, l: `l = ${p.l}`, kind: 'theory (FLOPs)', speedup: p.theoretical },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 280,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'N',
        type: 'quantitative',
        scale: { type: 'log', base: 2 },
        axis: { values: [...new Set(points.map((p) => p.n))] },
      },
      y: { field: 'speedup', type: 'quantitative', title: 'throughput / SISO throughput' },
      color: { field: 'l', type: 'nominal', title: 'prefill layers' },
      strokeDash: { field: 'kind', type: 'nominal', title: '', legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } },
    },
  };
}

export interface AccuracyPoint {
  label: string;
  speedup: number;
  accuracy: number;
}

/** Accuracy vs speedup, one labelled point per configuration (SISO at speedup 1). */
export function accuracyChart(points: AccuracyPoint[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 280,
    data: { values: points },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x: { field: 'speedup', type: 'quantitative', title: 'measured speedup over SISO' },
          y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, title: 'dev accuracy (%)' },
          color: { field: 'label', type: 'nominal', legend: null },
        },
      },
      {
        mark: { type: 'text', dx: 6, align: 'left', fontSize: 10 },
        encoding: {
          x: { field: 'speedup', type: 'quantitative' },
          y: { field: 'accuracy', type: 'quantitative' },
          text: { field: 'label' },
        },
      },
    ],
  };
}
