// The option parser of the bench / experiment scripts: defaults, strictness, the errors' wording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { numberArg, scriptArgs } from '../../src/cli/script-args.js';

const usage = 'npm run bench:x -- [--rounds 5] [--model DIR] [--quick]';
const defaults = { rounds: '5', model: undefined, quick: false, adapter: [] as string[] };

describe('scriptArgs', () => {
  it('fills defaults and reads what is given', () => {
    assert.deepEqual(scriptArgs(usage, defaults, { argv: [] }).values, defaults);
    const { values } = scriptArgs(usage, defaults, {
      argv: ['--rounds', '7', '--quick', '--model=m', '--adapter', 'a', '--adapter', 'b'],
    });
    assert.deepEqual(values, { rounds: '7', model: 'm', quick: true, adapter: ['a', 'b'] });
  });

  it('refuses an unknown flag or a stray argument, with the usage', () => {
    assert.throws(
      () => scriptArgs(usage, defaults, { argv: ['--round', '7'] }),
      /Unknown option '--round'[^]*usage: npm/,
    );
    assert.throws(() => scriptArgs(usage, defaults, { argv: ['runs/x'] }), /runs\/x/);
    assert.deepEqual(scriptArgs(usage, defaults, { argv: ['runs/x'], positionals: true }).positionals, ['runs/x']);
  });

  it('numberArg names the option of a value that is not a number', () => {
    assert.equal(numberArg('rounds', '1e-3'), 0.001);
    assert.throws(() => numberArg('rounds', 'five'), /--rounds must be a number, got 'five'/);
    assert.throws(() => numberArg('rounds', ''), /--rounds must be a number/);
  });
});
