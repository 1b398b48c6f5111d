// How the frozen backbone's Linear layers run. Kept free of imports: the CLI's option parsers read it
// at start-up, before any engine code is loaded.
export type Precision = 'fp32' | 'int8';
export const PRECISIONS: readonly Precision[] = ['fp32', 'int8'];

export function isPrecision(s: string): s is Precision {
  return (PRECISIONS as readonly string[]).includes(s);
}

export function parsePrecision(s: string, what = 'precision'): Precision {
  if (isPrecision(s)) return s;
  throw new Error(`${what}: unknown precision '${s}' (known: ${PRECISIONS.join(', ')})`);
}
