import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GLUE_TASKS, TASKS, loadGlue, parseGlueTsv, parseTask } from '../../src/data/glue.js';
import { sharedData } from '../helpers/shared-data.js';

describe('GLUE loaders', () => {
  it('parse quotes literally, tolerate a BOM, map labels to verbalizer order', () => {
    const rte = parseGlueTsv(
      'index\tsentence1\tsentence2\tlabel\n0\t"Quoted" start\tsecond "half\tentailment\n1\ta\tb\tnot_entailment\n',
      'rte',
    );
    assert.deepEqual(rte, [
      { textA: '"Quoted" start', textB: 'second "half', label: 1 },
      { textA: 'a', textB: 'b', label: 0 },
    ]);
    const mrpc = parseGlueTsv('\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tx\ty\n', 'mrpc');
    assert.deepEqual(mrpc, [{ textA: 'x', textB: 'y', label: 1 }]);
    assert.equal(TASKS.rte.labelWords[1], 'yes');
    assert.throws(
      () => parseGlueTsv('sentence\tlabel\nfine\t2\n', 'sst2', 'f.tsv'),
      /f.tsv:2: label '2' is not one of 0, 1/,
    );
    assert.throws(
      () => parseGlueTsv('sentence\tlabel\na\tb\t1\n', 'sst2', 'f.tsv'),
      /f.tsv:2: 3 fields, the header has 2/,
    );
    assert.throws(() => parseGlueTsv('text\tlabel\n', 'sst2', 'f.tsv'), /header has no column 'sentence'/);
    for (const label of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.throws(
        () => parseGlueTsv(`sentence\tlabel\nfine\t${label}\n`, 'sst2', 'f.tsv'),
        new RegExp(`f.tsv:2: label '${label}' is not one of 0, 1`),
      );
    }
    assert.throws(() => parseGlueTsv('sentence\tlabel\n', 'sst2', 'f.tsv'), /f.tsv: no examples after the header/);
    assert.equal(parseTask('SST-2'), 'sst2');
    assert.throws(() => parseTask('cola'), /unknown task 'cola'/);
  });

  it('load the shared files with their documented sizes and label counts', (t) => {
    const dir = sharedData(t, 'glue');
    if (!dir) return;
    const sizes: Record<string, [number, number, number]> = {
      sst2: [67349, 872, 444],
      mrpc: [3668, 408, 279],
      rte: [2490, 277, 146],
      qnli: [9999, 5463, 2702],
    };
    for (const task of GLUE_TASKS) {
      const train = loadGlue(dir, task, 'train');
      const dev = loadGlue(dir, task, 'dev');
      assert.equal(train.length, sizes[task][0], `${task} train`);
      assert.equal(dev.length, sizes[task][1], `${task} dev`);
      assert.equal(dev.filter((e) => e.label === 1).length, sizes[task][2], `${task} dev positives`);
      assert.equal(train[0].textB === undefined, task === 'sst2');
    }
    assert.equal(loadGlue(dir, 'sst2', 'dev')[0].textA, "it 's a charming and often affecting journey .");
  });
});
