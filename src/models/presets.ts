// Named BERT sizes for making backbones here (Google's BERT miniatures, Turc et al. 2019, plus base).
import { BERT, type BertConfig } from './bert.js';
import { ConfigReader } from './config-reader.js';
import { LLAMA, type LlamaConfig } from './llama.js';

export const BERT_PRESETS = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
  small: { num_hidden_layers: 4, hidden_size: 512, num_attention_heads: 8, intermediate_size: 2048 },
  medium: { num_hidden_layers: 8, hidden_size: 512, num_attention_heads: 8, intermediate_size: 2048 },
  base: { num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, intermediate_size: 3072 },
} as const;

export type BertPreset = keyof typeof BERT_PRESETS;

export function bertPreset(name: string, overrides: Record<string, unknown> = {}): BertConfig {
  const p = BERT_PRESETS[name as BertPreset];
  if (!p) throw new Error(`unknown preset '${name}' (known: ${Object.keys(BERT_PRESETS).join(', ')})`);
  return BERT.parseConfig(
    new ConfigReader(
      { model_type: 'bert', vocab_size: 30522, max_position_embeddings: 512, ...p, ...overrides },
      `preset ${name}`,
    ),
  );
}

/**
 * LLaMA-layout decoders of the BERT presets' widths and depths, for next-token pretraining here.
 * SwiGLU's three matrices at 3/4 of BERT's FFN width keep the parameter count close; tied embeddings.
 */
export function llamaPreset(name: string, overrides: Record<string, unknown> = {}): LlamaConfig {
  const p = BERT_PRESETS[name as BertPreset];
  if (!p) throw new Error(`unknown preset '${name}' (known: ${Object.keys(BERT_PRESETS).join(', ')})`);
  return LLAMA.parseConfig(
    new ConfigReader(
      {
        model_type: 'llama',
        vocab_size: 30522,
        hidden_size: p.hidden_size,
        num_hidden_layers: p.num_hidden_layers,
        num_attention_heads: p.num_attention_heads,
        num_key_value_heads: p.num_attention_heads,
        intermediate_size: (p.intermediate_size * 3) / 4,
        max_position_embeddings: 512,
        rms_norm_eps: 1e-6,
        tie_word_embeddings: true,
        ...overrides,
      },
      `preset ${name}`,
    ),
  );
}
