package sdbatch.pipeline.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.models.CLIPTextModelWithProjection;
import sdbatch.pipeline.models.T5EncoderModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.pipeline.tokenizer.T5Tokenizer;

/**
 * SD3's three text encoders with their tokenizers and one row's part of diffusers' {@code
 * StableDiffusion3Pipeline.encode_prompt}: both CLIPs' penultimate hidden states side by side,
 * zero-padded to T5's width, followed along the sequence by T5's {@code max_sequence_length} tokens
 * (zeros without T5), and both CLIPs' projections as the pooled embedding; cached per prompt
 * triple. {@link StableDiffusion3Family} assembles a batch's rows and guidance from these.
 */
final class StableDiffusion3TextEncoders implements AutoCloseable {
    private final CLIPTokenizer tokenizer;
    private final CLIPTokenizer tokenizer2;
    private final T5Tokenizer tokenizer3;
    private final CLIPTextModelWithProjection textEncoder;
    private final CLIPTextModelWithProjection textEncoder2;
    private final T5EncoderModel textEncoder3;
    private final int jointAttentionDim;
    private final DataType dtype;
    private final PromptCache<PromptKey, CachedEmbeds> promptCache;

    /**
     * Most prompt embeddings cached: an SD3-medium row with T5 is (77 + 256) × 4096 floats, 5.5 MB
     * on the heap, so the pipeline's prompt cache size is capped here (16 ≈ 90 MB).
     */
    static final int MAX_CACHED_PROMPTS = 16;

    /** What one row's embeddings are computed from. */
    private record PromptKey(String p1, String p2, String p3, int clipSkip, int maxLen) {}

    /** One row's {@code prompt_embeds} and {@code pooled_prompt_embeds}, on the heap. */
    private record CachedEmbeds(PromptCache.Entry embeds, PromptCache.Entry pooled) {}

    /**
     * @param tokenizer3 T5's tokenizer, null without T5
     * @param textEncoder3 T5, null without T5 (then T5's part of the embeddings is zeros)
     * @param jointAttentionDim the transformer's {@code joint_attention_dim}: T5's part's width
     * @param dtype the dtype the transformer computes in
     * @param promptCacheSize prompt embeddings kept (at most {@link #MAX_CACHED_PROMPTS})
     */
    StableDiffusion3TextEncoders(
            CLIPTokenizer tokenizer,
            CLIPTokenizer tokenizer2,
            T5Tokenizer tokenizer3,
            CLIPTextModelWithProjection textEncoder,
            CLIPTextModelWithProjection textEncoder2,
            T5EncoderModel textEncoder3,
            int jointAttentionDim,
            DataType dtype,
            int promptCacheSize) {
        if ((tokenizer3 == null) != (textEncoder3 == null)) {
            throw new IllegalArgumentException(
                    "T5's tokenizer and encoder come together: got "
                            + (tokenizer3 == null ? "no tokenizer_3" : "no text_encoder_3"));
        }
        this.tokenizer = tokenizer;
        this.tokenizer2 = tokenizer2;
        this.tokenizer3 = tokenizer3;
        this.textEncoder = textEncoder;
        this.textEncoder2 = textEncoder2;
        this.textEncoder3 = textEncoder3;
        this.jointAttentionDim = jointAttentionDim;
        this.dtype = dtype;
        this.promptCache = new PromptCache<>(Math.min(promptCacheSize, MAX_CACHED_PROMPTS));
    }

    CLIPTokenizer tokenizer() {
        return tokenizer;
    }

    CLIPTokenizer tokenizer2() {
        return tokenizer2;
    }

    /** T5's tokenizer, or null without T5. */
    T5Tokenizer tokenizer3() {
        return tokenizer3;
    }

    /** The CLIP tokenizers by component name. */
    Map<String, CLIPTokenizer> clipTokenizers() {
        Map<String, CLIPTokenizer> m = new LinkedHashMap<>();
        m.put("tokenizer", tokenizer);
        m.put("tokenizer_2", tokenizer2);
        return m;
    }

    /** Whether T5 is loaded (else its part of the prompt embeddings is zeros). */
    boolean hasT5() {
        return textEncoder3 != null;
    }

    /** The shallower CLIP's layers: {@code hidden_states[-(clip_skip + 2)]} must exist in both. */
    int clipLayers() {
        return Math.min(
                textEncoder.textModel().numHiddenLayers(),
                textEncoder2.textModel().numHiddenLayers());
    }

    /** Forgets the cached embeddings (the encoders' weights changed). */
    void clearCache() {
        promptCache.clear();
    }

    /** The cuts of one prompt triple; {@code prefix} is "" or "negative_" (diffusers' names). */
    void addTexts(
            List<PromptTruncation> cuts,
            String prefix,
            String text,
            String text2,
            String text3,
            int maxLen) {
        String input = prefix + "prompt";
        PromptTruncation.add(cuts, PromptTruncation.clip(input, tokenizer, text));
        PromptTruncation.add(
                cuts,
                PromptTruncation.clip(
                        text2 == null ? input : input + "_2",
                        tokenizer2,
                        text2 == null ? text : text2));
        if (tokenizer3 != null && textEncoder3 != null) {
            PromptTruncation.add(
                    cuts,
                    PromptTruncation.t5(
                            text3 == null ? input : input + "_3",
                            tokenizer3,
                            text3 == null ? text : text3,
                            maxLen));
        }
    }

    /**
     * One row's {@code prompt_embeds} [1, 77 + max_sequence_length, T5 width] and {@code
     * pooled_prompt_embeds} [1, both projections], in {@code run}.
     */
    NDArray[] promptEmbeds(
            NDManager run, String p1, String p2, String p3, int clipSkip, int maxLen) {
        PromptKey key = new PromptKey(p1, p2, p3, clipSkip, maxLen);
        CachedEmbeds hit = promptCache.get(key);
        if (hit == null) {
            NDArray[] computed = computePromptEmbeds(run, p1, p2, p3, clipSkip, maxLen);
            hit =
                    new CachedEmbeds(
                            PromptCache.Entry.of(computed[0]), PromptCache.Entry.of(computed[1]));
            promptCache.put(key, hit);
            return computed;
        }
        return new NDArray[] {hit.embeds().toArray(run, dtype), hit.pooled().toArray(run, dtype)};
    }

    private NDArray[] computePromptEmbeds(
            NDManager run, String p1, String p2, String p3, int clipSkip, int maxLen) {
        try (NDManager scope = run.newSubManager()) {
            NDArray[] clip1 = clipPromptEmbeds(scope, tokenizer, textEncoder, p1, clipSkip);
            NDArray[] clip2 = clipPromptEmbeds(scope, tokenizer2, textEncoder2, p2, clipSkip);
            NDArray clip = clip1[0].concat(clip2[0], -1);
            NDArray t5 = t5PromptEmbeds(scope, p3, maxLen);
            // torch.nn.functional.pad(clip, (0, t5_width - clip_width)): zeros on the right, or a
            // crop where T5 is narrower
            long pad = t5.getShape().get(2) - clip.getShape().get(2);
            if (pad > 0) {
                Shape s = clip.getShape();
                clip =
                        clip.concat(
                                scope.zeros(new Shape(s.get(0), s.get(1), pad), clip.getDataType()),
                                -1);
            } else if (pad < 0) {
                clip = clip.get(new NDIndex(":, :, 0:{}", t5.getShape().get(2)));
            }
            NDArray embeds = clip.concat(t5, 1).toType(dtype, false);
            NDArray pooled = clip1[1].concat(clip2[1], -1).toType(dtype, false);
            embeds.attach(run);
            pooled.attach(run);
            return new NDArray[] {embeds, pooled};
        }
    }

    /**
     * diffusers' {@code _get_clip_prompt_embeds}: {@code hidden_states[-(clip_skip + 2)]} [1, 77,
     * width] and the projected pooled output {@code text_embeds} [1, projection_dim].
     */
    private static NDArray[] clipPromptEmbeds(
            NDManager scope,
            CLIPTokenizer tok,
            CLIPTextModelWithProjection encoder,
            String prompt,
            int clipSkip) {
        long[] ids = tok.encode(prompt).inputIds();
        NDArray input = scope.create(ids, new Shape(1, ids.length));
        CLIPTextModelWithProjection.Output out = encoder.forward(input);
        NDArray hidden = out.text().hiddenStateFromEnd(clipSkip + 2);
        return new NDArray[] {hidden, out.textEmbeds()};
    }

    /**
     * diffusers' {@code _get_t5_prompt_embeds}: T5's last hidden state over {@code maxLen} tokens,
     * or zeros of {@code [1, maxLen, joint_attention_dim]} without T5.
     */
    private NDArray t5PromptEmbeds(NDManager scope, String prompt, int maxLen) {
        if (textEncoder3 == null) {
            return scope.zeros(new Shape(1, maxLen, jointAttentionDim), dtype);
        }
        long[] ids = tokenizer3.encode(prompt, maxLen).inputIds();
        return textEncoder3.forward(scope.create(ids, new Shape(1, ids.length)));
    }

    @Override
    public void close() {
        textEncoder.close();
        textEncoder2.close();
        if (textEncoder3 != null) {
            textEncoder3.close();
            tokenizer3.close();
        }
    }
}
