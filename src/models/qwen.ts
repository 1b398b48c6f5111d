// Qwen2 and Qwen3 (transformers' Qwen2ForCausalLM, Qwen3ForCausalLM): LLaMA-layout decoders
// (src/models/llama.ts) with their own config defaults and two layout differences:
//   Qwen2 — biases on the q/k/v projections (not on o_proj);
//   Qwen3 — no biases, and each head's queries and keys RMS-normalised over head_dim (q_norm,
//           k_norm) before the rotation; head_dim is its own config field (default 128), not hidden/heads.
// Everything else (RoPE, grouped-query attention, SwiGLU, heads, prompts) is LLaMA's.
import type { ConfigReader } from './config-reader.js';
import { type DecoderDefaults, decoderFamily, parseDecoderConfig } from './llama.js';

const QWEN_DEFAULTS: DecoderDefaults = {
  vocab_size: 151936,
  intermediate_size: 22016,
  max_position_embeddings: 32768,
  rope_theta: 10000,
  head_dim: null,
};

export const QWEN2 = decoderFamily(
  (r: ConfigReader) =>
    parseDecoderConfig(r, 'qwen2', QWEN_DEFAULTS, () => ({ qkv_bias: true, attention_bias: false, qk_norm: false })),
  'Qwen2ForCausalLM',
);

export const QWEN3 = decoderFamily(
  (r: ConfigReader) =>
    parseDecoderConfig(r, 'qwen3', { ...QWEN_DEFAULTS, head_dim: 128 }, (c) => ({
      qkv_bias: c.attention_bias,
      qk_norm: true,
    })),
  'Qwen3ForCausalLM',
);
