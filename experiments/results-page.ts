// npm run experiment:results: docs/results.md and its plots, rendered from results/matrix/**.json
// alone (one file per cell, written by experiment:matrix). For each grid: the variants × N table per
// task (mean over seeds of the 10-pairing mean, with the spread over seeds and over pairings), the
// prefill sweep, accuracy against N, and a plain check of each of the paper's claims with the spread.
import fs from 'node:fs';
import path from 'node:path';
import { renderChart } from '../src/eval/plots.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { type CellMethod, isWholeModel } from './matrix-grid.js';
import { paperBackbone } from './paper-numbers.js';
import {
  type Agg,
  type CellRecord,
  aggregate,
  bestLearningRate,
  cellFiles,
  groupBy,
  mainPrefill,
  prefillVerdict,
  spread,
  type Verdict,
  verdictOf,
} from './results-cells.js';
import { accuracyByNChart, accuracySpeedChart } from './results-charts.js';
import { type BenchFile, benchName, benchRow, speedCell, speeds } from './results-speed.js';

/** How the page names each method in its claims. */
const METHOD_NAMES: Record<string, string> = {
  revmux: 'RevMUX',
  ora: 'ORA',
  vanilla: 'vanilla',
  datamux: 'DataMUX',
  muxplm: 'MUX-PLM',
};
const pct = (x: number) => (100 * x).toFixed(2);
/** One markdown table row. */
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** Every verdict of the page, by claim, for the summary across tables at the top. */
const verdicts = new Map<string, { table: string; verdict: Verdict }[]>();
function record(name: string, table: string, verdict: Verdict) {
  verdicts.set(name, [...(verdicts.get(name) ?? []), { table, verdict }]);
}

/** "a ≥ b" checked with the spread: holds, holds within noise, or does not hold; `detail` says which cells. */
function claim(table: string, name: string, a: Agg | undefined, b: Agg | undefined, detail = ''): string | null {
  if (!a || !b) return null;
  const diff = a.acc - b.acc;
  const noise = spread(a, b);
  const verdict = verdictOf(diff, noise);
  record(name, table, verdict);
  const shown = {
    holds: 'holds',
    'within the spread': 'within the spread (no clear order)',
    'does not hold': '**does not hold**',
  };
  return (
    `- ${name}: ${pct(a.acc)} vs ${pct(b.acc)} (difference ${diff >= 0 ? '+' : ''}${pct(diff)} points, ` +
    `largest spread ${pct(noise)}${detail ? `; ${detail}` : ''}): ${shown[verdict]}.`
  );
}

/** Each claim once, with how many tables it holds in, and which (the per-table lines below give the numbers). */
function summary(): string[] {
  if (!verdicts.size) return [];
  const out = ["## The paper's claims across all tables", ''];
  out.push(
    'Each line counts the tables below (backbone / task) where the claim holds beyond the larger of the pairing',
    'and seed spreads, where the two sides are within that spread, and where it does not hold. A table whose',
    'SISO backbone is itself near its majority class (each table gives it) says little either way.',
    '',
  );
  const order = (name: string) =>
    [/ORA at/, /vanilla at/, /DataMUX/, /MUX-PLM/, /loses no more/, /prefill/].findIndex((r) => r.test(name));
  const names = [...verdicts.keys()].sort((a, b) => order(a) - order(b) || a.localeCompare(b, 'en', { numeric: true }));
  for (const name of names) {
    const vs = verdicts.get(name)!;
    const of = (v: Verdict) => vs.filter((x) => x.verdict === v).map((x) => x.table);
    const part = (v: Verdict, label: string) => {
      const ts = of(v);
      return ts.length ? `${label} in ${ts.length}${v === 'within the spread' ? '' : ` (${ts.join('; ')})`}` : null;
    };
    const parts = [
      part('holds', 'holds'),
      part('within the spread', 'within the spread'),
      part('does not hold', '**does not hold**'),
    ].filter(Boolean);
    out.push(`- ${name}, ${vs.length} table${vs.length > 1 ? 's' : ''}: ${parts.join(', ')}.`);
  }
  out.push('');
  return out;
}

/**
 * The paper compares at equal N, where RevMUX also pays for its l prefill layers and the whole-model baselines
 * multiplex from the embeddings: so also compare each whole-model row with the most accurate RevMUX cell (any N,
 * any l) measured at least as fast, on each bench.
 */
function atEqualSpeed(table: string, main: Agg[], aggs: Agg[], benches: BenchFile[], layers: number): string[] {
  const lines: string[] = [];
  for (const w of main.filter((a) => isWholeModel(a.variant as CellMethod)))
    for (const b of benches) {
      const speed = (a: Agg) => benchRow(b, a, layers)?.speedup;
      const target = speed(w);
      if (target === undefined) continue;
      const where = b.model.startsWith('random') ? `at ${b.model.replace('random ', '')} shape` : 'on the backbone';
      const name = `RevMUX ≥ ${METHOD_NAMES[w.variant]} N = ${w.n} at its speed-up ${where}`;
      const [best] = aggs
        .filter((a) => a.variant === 'revmux' && (speed(a) ?? 0) >= target)
        .sort((x, y) => y.acc - x.acc);
      if (!best) lines.push(`- ${name} (${target}x): no RevMUX cell here was measured as fast.`);
      else lines.push(claim(table, name, best, w, `RevMUX N = ${best.n}, l = ${best.l}: ${speed(best)}x, ${target}x`)!);
    }
  return lines;
}

/**
 * The hand-written reading of the tables (experiments/results-reading.md), placed first. Its first line names the
 * number of cells it was written against; when the grids hold more or fewer, the page says so above it.
 */
function plainReading(cells: number): string[] {
  const file = path.join('experiments', 'results-reading.md');
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8').trim();
  const against = Number(/^<!-- written against (\d+) cells -->/.exec(text)?.[1]);
  if (!against) throw new Error(`${file}: the first line must be "<!-- written against N cells -->"`);
  const stale =
    against === cells
      ? []
      : [`*Written when the grids held ${against} cells; they now hold ${cells}: the tables below are newer.*`, ''];
  return ['## In plain words', '', ...stale, text.replace(/^.*\n/, '').trim(), ''];
}

const records = cellFiles(path.join('results', 'matrix')).map(
  (f) => JSON.parse(fs.readFileSync(f, 'utf8')) as CellRecord,
);

/** Every learning rate tried for a row, so the choice of the best one is in view (it is picked on dev accuracy). */
function learningRates(tried: Agg[][]): string[] {
  if (!tried.length) return [];
  const out = [
    'Learning rates tried (each row above is the most accurate of its set, picked on the same dev set it reports):',
    '',
    '| variant | N | l | lr | seeds | dev accuracy | ± pairings | agrees with SISO | epochs (best / trained) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const a of tried.flat())
    out.push(
      row([
        a.variant,
        a.n,
        a.l,
        a.lr ?? '',
        a.seeds,
        pct(a.acc),
        pct(a.pairingSd),
        pct(a.agreement),
        `${a.bestEpoch.toFixed(1)} / ${a.epochs.toFixed(1)}`,
      ]),
    );
  return [...out, ''];
}

/** Our main table's accuracies beside the paper's for the same family, as drops from each side's SISO. */
function besideThePaper(c0: CellRecord, main: Agg[]): string[] {
  const paper = paperBackbone(c0.backbone_type ?? 'bert');
  const task = c0.task as 'sst2' | 'mrpc' | 'rte' | 'qnli';
  if (!paper) return [];
  const rows = main.filter((a) => paper.cells[a.variant]?.[a.n]?.[task] !== undefined); // GLUE tasks only
  if (!rows.length) return [];
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  const paperSiso = paper.siso?.[task];
  const out = [
    `Beside the paper's ${paper.name}: its backbone is far larger and trained elsewhere, so compare the drops from`,
    "each side's own single-input accuracy (the paper reports that accuracy for BERT-base only).",
    '',
    '| variant | N | ours | ours - SISO | paper | paper - its SISO |',
    '| --- | --- | --- | --- | --- | --- |',
    `| SISO backbone | 1 | ${pct(main[0].siso)} | | ${paperSiso?.toFixed(2) ?? 'not reported'} | |`,
  ];
  for (const a of rows) {
    const p = paper.cells[a.variant][a.n][task];
    const ours = 100 * (a.acc - a.siso);
    out.push(row([a.variant, a.n, pct(a.acc), signed(ours), p.toFixed(2), paperSiso ? signed(p - paperSiso) : '']));
  }
  return [...out, ''];
}

const md: string[] = [
  "# Results: the paper's tables at our scale (issue #13)",
  '',
  'Rendered by `npm run experiment:results` from the cell files under `results/matrix/` alone; each cell was',
  'trained by `npm run experiment:matrix -- --grid experiments/grids/<grid>.json` (adapters until dev accuracy',
  'stopped improving for 3 evaluations, two per epoch, with an epoch cap; DataMUX / MUX-PLM, which train every',
  "weight, by the grid's whole-model rule: the same early stopping on the pretrained encoder's grid, one fixed",
  'epoch on the from-scratch grid; best dev checkpoint kept; all scored over 10 seeded pairings). Where a grid',
  'trains an adapter at more than one learning rate, its row is the most accurate rate (the row says which).',
  'Accuracy is the mean over seeds of the 10-pairing mean; "± seeds" is the standard deviation over seeds,',
  '"± pairings" the mean standard deviation over pairings. Speed-ups are not measured by the grid (cells',
  'train on shared cores) but by `revmux bench` runs on free cores, on the backbone itself and on random',
  'weights at BERT-base shape at the same share of prefilled layers (`results/matrix/<grid>/speed/`), with',
  "SST-2 dev sentences on the backbone and 64-token rows at BERT-base shape, for every task's table.",
  '',
];
if (!records.length) md.push('No cells have been run yet.');
md.push(...plainReading(records.length));
const summaryAt = md.length; // the summary across tables goes here once every table has been read
fs.mkdirSync('docs/img', { recursive: true });
for (const [grid, cells] of groupBy(records, (r) => r.grid)) {
  md.push(`## ${grid}`, '');
  const benches = speeds(grid);
  const speedHeads = benches.map((b) => ` speed-up, ${benchName(b)} |`).join('');
  const speedRule = benches.map(() => ' --- |').join('');
  if (!benches.length)
    md.push(
      `No speed-up measured for this grid yet (\`revmux bench ... --out results/matrix/${grid}/speed/<name>\`).`,
      '',
    );
  for (const [task, taskCells] of groupBy(cells, (r) => `${r.backbone} / ${r.task}`)) {
    const c0 = taskCells[0];
    const mixed = taskCells.filter((r) => r.backbone_sha256 !== c0.backbone_sha256);
    if (mixed.length)
      throw new Error(
        `results/matrix/${grid}, ${task}: cells on different backbone weights (${c0.cell}: ` +
          `${c0.backbone_sha256.slice(0, 12)}, ${mixed[0].cell}: ${mixed[0].backbone_sha256.slice(0, 12)}); ` +
          `npm run experiment:matrix -- --grid experiments/grids/${grid}.json --retire-stale sets the stale ones aside`,
      );
    const byRecipe = [...groupBy(taskCells, (r) => `${r.variant}|${r.n}|${r.l}|${r.lr}`).values()].map(aggregate);
    const { best: aggs, tried } = bestLearningRate(byRecipe);
    const lrNote = (a: Agg) => {
      const set = tried.find((t) => t[0] === a);
      return set ? ` (lr ${a.lr}, best of ${set.length})` : '';
    };
    const mainL = mainPrefill(taskCells);
    // whole-model baselines multiplex at the embeddings (l = 0) and sit in the main table beside the adapters
    const main = aggs
      .filter((a) => a.l === mainL || isWholeModel(a.variant as CellMethod))
      .sort((a, b) => a.n - b.n || a.variant.localeCompare(b.variant));
    md.push(`### ${task} (${c0.backbone_layers} layers, d = ${c0.backbone_hidden}), l = ${mainL}`, '');
    if (c0.backbone_dir)
      md.push(`Frozen backbone \`${c0.backbone_dir}\`, weights sha256 \`${c0.backbone_sha256.slice(0, 12)}…\`.`, '');
    md.push(
      '| variant | N | seeds | dev accuracy | ± seeds | ± pairings | per-slot | pairing sensitivity | ' +
        `agrees with SISO | trained params | epochs (best / trained) | train s |${speedHeads}`,
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |${speedRule}`,
    );
    md.push(
      `| SISO backbone | 1 | | ${pct(main[0].siso)} | | | | 0 | 100 | (frozen) | | |` + ' 1x |'.repeat(benches.length),
    );
    for (const a of main)
      md.push(
        row([
          `${a.variant}${isWholeModel(a.variant as CellMethod) ? ' (whole model, l = 0)' : lrNote(a)}`,
          a.n,
          a.seeds,
          pct(a.acc),
          Number.isNaN(a.seedSd) ? '' : pct(a.seedSd),
          pct(a.pairingSd),
          a.slots.map(pct).join(' / '),
          pct(a.sensitivity),
          pct(a.agreement),
          `${(a.params / 1e6).toFixed(2)}M`,
          `${a.bestEpoch.toFixed(1)} / ${a.epochs.toFixed(1)}`,
          a.seconds.toFixed(0),
          ...(benches.length ? [speedCell(benches, a, c0.backbone_layers)] : []),
        ]),
      );
    md.push('');
    md.push(...learningRates(tried));
    md.push(...besideThePaper(c0, main));
    const sweep = aggs
      .filter((a) => a.variant === 'revmux' && aggs.filter((b) => b.variant === 'revmux' && b.n === a.n).length > 1)
      .sort((a, b) => a.n - b.n || a.l - b.l);
    if (sweep.length) {
      md.push(
        'Prefill sweep (RevMUX):',
        '',
        `| N | l | dev accuracy | ± pairings | agrees with SISO |${speedHeads}`,
        `| --- | --- | --- | --- | --- |${speedRule}`,
      );
      for (const a of sweep) {
        const speed = benches.length ? ` ${speedCell(benches, a, c0.backbone_layers)} |` : '';
        md.push(`| ${a.n} | ${a.l} | ${pct(a.acc)} | ${pct(a.pairingSd)} | ${pct(a.agreement)} |${speed}`);
      }
      md.push('');
    }
    const slug = `${grid}-${task}`.replace(/[^\w-]+/g, '-');
    const spec = accuracyByNChart(`${task}: accuracy against N (l = ${mainL})`, c0, main);
    await renderChart(spec, path.join('docs', 'img', `results-${slug}`));
    md.push(`![accuracy against N, ours beside the paper's](img/results-${slug}.png)`, '');
    const tradeOff = accuracySpeedChart(`${task}: accuracy against speed-up`, aggs, benches, c0.backbone_layers);
    if (tradeOff) {
      await renderChart(tradeOff, path.join('docs', 'img', `results-${slug}-speed`));
      md.push(`![accuracy against measured speed-up](img/results-${slug}-speed.png)`, '');
    }
    md.push('What the paper claims, checked on these cells:', '');
    const at = (v: string, n: number, l = mainL) => aggs.find((a) => a.variant === v && a.n === n && a.l === l);
    const lines: string[] = [];
    // the paper's orderings at equal N; the whole-model baselines multiplex from the embeddings (l = 0)
    const orderings = [
      ['revmux', 'ora'],
      ['ora', 'vanilla'],
      ['revmux', 'datamux'],
      ['revmux', 'muxplm'],
    ];
    for (const n of [...new Set(main.map((a) => a.n))])
      for (const [a, b] of orderings) {
        const bL = isWholeModel(b as CellMethod) ? 0 : mainL;
        const line = claim(task, `${METHOD_NAMES[a]} ≥ ${METHOD_NAMES[b]} at N = ${n}`, at(a, n), at(b, n, bL));
        if (line) lines.push(line);
      }
    lines.push(...atEqualSpeed(task, main, aggs, benches, c0.backbone_layers));
    const ns = [...new Set(main.filter((a) => a.variant === 'revmux').map((a) => a.n))].sort((a, b) => a - b);
    const paperFamily = paperBackbone(c0.backbone_type ?? 'bert');
    const paperRevmux = paperFamily?.cells.revmux;
    const paperName = paperFamily?.name.split(' (')[0];
    /** The paper's RevMUX loss from N = from to N = to on this task, in points, where it reports both. */
    const paperDrop = (from: number, to: number) => {
      const t = c0.task as 'sst2';
      const [a, b] = [paperRevmux?.[from]?.[t], paperRevmux?.[to]?.[t]];
      return a === undefined || b === undefined ? undefined : a - b;
    };
    const steps = ns.length > 2 ? [...ns.slice(1).map((n, i) => [ns[i], n]), [ns[0], ns[ns.length - 1]]] : [];
    for (const [from, to] of ns.length === 2 ? [[ns[0], ns[1]]] : steps) {
      const drop = (at('revmux', from)?.acc ?? NaN) - (at('revmux', to)?.acc ?? NaN);
      const theirs = paperDrop(from, to);
      lines.push(
        `- RevMUX from N = ${from} to ${to}: ${drop >= 0 ? 'loses' : 'gains'} ${pct(Math.abs(drop))} points` +
          `${theirs === undefined ? '' : ` (the paper's ${paperName}: ${theirs.toFixed(2)})`}.`,
      );
    }
    // "degrades gracefully", measured against the paper: from the smallest to the largest N, do we lose more?
    const [first, last] = [at('revmux', ns[0]), at('revmux', ns[ns.length - 1])];
    const theirs = ns.length > 1 ? paperDrop(ns[0], ns[ns.length - 1]) : undefined;
    if (first && last && theirs !== undefined) {
      const ours = 100 * (first.acc - last.acc);
      const name = `RevMUX loses no more than the paper's ${paperName} from N = ${ns[0]} to ${ns[ns.length - 1]}`;
      record(name, task, verdictOf(theirs - ours, 100 * spread(first, last)));
    }
    for (const n of [...new Set(sweep.map((a) => a.n))]) {
      const ls = sweep.filter((a) => a.n === n);
      const verdict = prefillVerdict(ls);
      record(`More prefill layers keep more accuracy (RevMUX, N = ${n})`, task, verdict);
      const shown = {
        holds: 'holds (no step drops beyond the spread; the most prefilled beats the least beyond it)',
        'within the spread': 'within the spread (no step drops beyond it, none gains beyond it overall)',
        'does not hold': '**does not hold** (a step drops beyond the spread)',
      };
      lines.push(
        `- More prefill layers keep more accuracy (RevMUX, N = ${n}): ` +
          `${ls.map((a) => `l = ${a.l}: ${pct(a.acc)}`).join(', ')}: ${shown[verdict]}.`,
      );
    }
    md.push(...lines, '');
  }
}
md.splice(summaryAt, 0, ...summary());
writeTextAtomic(path.join('docs', 'results.md'), md.join('\n') + '\n');
console.log(`docs/results.md: ${records.length} cells`);
