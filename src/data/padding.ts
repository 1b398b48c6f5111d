// The one place token lists become right-padded [rows, S] int64 arrays: tokenizer batches, fine-tuning
// batches, the fused inference feeds, prefill features and whole-model multiplexing groups all pad here,
// always with the tokenizer's pad id (RoBERTa derives positions from it) and a zero attention mask.

export interface TokenRow {
  ids: readonly number[];
  /** Segment ids; absent means all 0. */
  typeIds?: readonly number[];
}

export interface PaddedBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  rows: number;
  /** Padded length S. */
  seq: number;
}

/**
 * Right-pads `items` to the longest (at least `minLength`, default 1). `rows` beyond the items are
 * all-padding rows (a multiplexed batch's empty slots).
 */
export function padRows(
  items: readonly TokenRow[],
  padId: number,
  o: { rows?: number; minLength?: number } = {},
): PaddedBatch {
  const rows = o.rows ?? items.length;
  if (rows < items.length) throw new Error(`padRows: ${items.length} items do not fit in ${rows} rows`);
  const seq = Math.max(o.minLength ?? 1, ...items.map((e) => e.ids.length));
  const inputIds = new BigInt64Array(rows * seq).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(rows * seq);
  const tokenTypeIds = new BigInt64Array(rows * seq);
  items.forEach((e, r) => {
    for (let j = 0; j < e.ids.length; j++) {
      inputIds[r * seq + j] = BigInt(e.ids[j]);
      attentionMask[r * seq + j] = 1n;
      tokenTypeIds[r * seq + j] = BigInt(e.typeIds?.[j] ?? 0);
    }
  });
  return { inputIds, attentionMask, tokenTypeIds, rows, seq };
}
