// Option parsers for commander that reject bad numbers with the option's value in the message.
import { InvalidArgumentError } from 'commander';
import { PRECISIONS, type Precision, isPrecision } from '../nn/precision.js';

export function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`'${value}' is not an integer`);
  return n;
}

export function num(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return n;
}

export function intList(value: string): number[] {
  return value.split(',').map((v) => int(v.trim()));
}

/** A parser that also checks a range, naming the value and what it must be. */
const checked =
  (parse: (v: string) => number, ok: (n: number) => boolean, want: string) =>
  (value: string): number => {
    const n = parse(value);
    if (!ok(n)) throw new InvalidArgumentError(`'${value}' must be ${want}`);
    return n;
  };

/** A count or size. */
export const positiveInt = checked(int, (n) => n >= 1, 'a positive integer');
export const nonNegativeInt = checked(int, (n) => n >= 0, '0 or more');
/** A learning rate, a budget in minutes, a delay. */
export const positiveNum = checked(num, (n) => n > 0, 'greater than 0');
export const nonNegativeNum = checked(num, (n) => n >= 0, '0 or more');
/** A probability or a share of a budget. */
export const fraction = checked(num, (n) => n >= 0 && n < 1, 'at least 0 and below 1');

/** --precision fp32 | int8 (how the frozen backbone's Linear layers run). */
export function precision(value: string): Precision {
  if (!isPrecision(value))
    throw new InvalidArgumentError(`'${value}' is not a precision (known: ${PRECISIONS.join(', ')})`);
  return value;
}

export function precisionList(value: string): Precision[] {
  return value.split(',').map((v) => precision(v.trim()));
}

export const PRECISION_HELP =
  "fp32, or int8: the frozen backbone's Linear layers dynamically quantized (7-bit weights per channel; attention, " +
  'norms and adapters stay float32)';
