// Option parsers for commander that reject bad numbers with the option's value in the message.
import { InvalidArgumentError } from 'commander';

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

/** A count or size: an integer ≥ 1. */
export function positiveInt(value: string): number {
  const n = int(value);
  if (n < 1) throw new InvalidArgumentError(`'${value}' must be a positive integer`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = int(value);
  if (n < 0) throw new InvalidArgumentError(`'${value}' must be 0 or more`);
  return n;
}

/** A learning rate, a budget in minutes, a delay: a number > 0. */
export function positiveNum(value: string): number {
  const n = num(value);
  if (n <= 0) throw new InvalidArgumentError(`'${value}' must be greater than 0`);
  return n;
}

export function nonNegativeNum(value: string): number {
  const n = num(value);
  if (n < 0) throw new InvalidArgumentError(`'${value}' must be 0 or more`);
  return n;
}

/** A probability or a share of a budget: 0 ≤ p < 1. */
export function fraction(value: string): number {
  const n = num(value);
  if (n < 0 || n >= 1) throw new InvalidArgumentError(`'${value}' must be at least 0 and below 1`);
  return n;
}
