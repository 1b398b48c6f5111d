// The brief's line limit, checked where prettier cannot: it wraps code at 120 columns but leaves long
// strings, template literals, regexes and comments alone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { sources } from '../helpers/sources.js';

const ROOTS = ['src', 'test', 'bench', 'experiments'];
const MAX_COLUMNS = 120;

describe('source style', () => {
  it(`every TypeScript line fits in ${MAX_COLUMNS} columns`, () => {
    const files = ROOTS.flatMap(sources);
    assert.ok(files.length > 100, `found only ${files.length} files under ${ROOTS.join(', ')}`);
    const long = files.flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => ([...line].length > MAX_COLUMNS ? [`${f}:${i + 1} (${[...line].length})`] : [])),
    );
    assert.deepEqual(long, [], `lines over ${MAX_COLUMNS} columns:\n${long.join('\n')}`);
  });
});
