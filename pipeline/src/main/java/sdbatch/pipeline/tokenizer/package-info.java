/**
 * The CLIP text tokenizer of Stable Diffusion, in pure Java: byte-level BPE from a diffusers {@code
 * tokenizer/} folder ({@code vocab.json} + {@code merges.txt}, or {@code tokenizer.json}), giving
 * exactly the ids of Hugging Face transformers' {@code CLIPTokenizer} as diffusers calls it ({@code
 * padding="max_length", max_length=77, truncation=True}).
 *
 * <p>It lives in {@code pipeline} rather than {@code schemas} because the ids feed the text encoder
 * and the vocabulary is part of a model folder; it uses no DJL, so it needs no engine.
 *
 * <p>SD3's T5 tokenizer ({@code T5Tokenizer}, {@code tokenizer_3/tokenizer.json}: Unigram with a
 * precompiled normalizer) is Hugging Face's Rust tokenizers through DJL's binding, whose native
 * library ships in the jar and loads offline; its class comment says why.
 */
package sdbatch.pipeline.tokenizer;
