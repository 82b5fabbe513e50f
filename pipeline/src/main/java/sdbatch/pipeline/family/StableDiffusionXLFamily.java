package sdbatch.pipeline.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.Conditioning;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.MicroConditioning;
import sdbatch.pipeline.models.AddedConditions;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.CLIPTextModelWithProjection;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;

/**
 * Stable Diffusion XL: diffusers' {@code StableDiffusionXLPipeline.encode_prompt} over two CLIP
 * text encoders, and its UNet called with {@code added_cond_kwargs} ({@code text_embeds}, {@code
 * time_ids}).
 *
 * <p>A prompt's sequence embedding is the penultimate hidden state ({@code
 * hidden_states[-(clip_skip + 2)]}, no final layer norm) of {@code text_encoder} over {@code
 * tokenizer}'s ids of {@code prompt} and of {@code text_encoder_2} over {@code tokenizer_2}'s ids
 * of {@code prompt_2} (null = {@code prompt}), concatenated on the channel axis; its pooled
 * embedding is {@code text_encoder_2}'s projected pooled output. The two tokenizers pad differently
 * ({@code <|endoftext|>} and {@code !}), which is why each encoder gets its own ids.
 *
 * <p>The unconditional row: with {@code force_zeros_for_empty_prompt} (the folder's {@code
 * model_index.json}, true for SDXL base) a <em>null</em> negative prompt gives zero embeddings and
 * a zero pooled embedding, while {@code ""} is encoded like any text; otherwise a null negative
 * prompt is {@code ""}. {@code negative_prompt_2} null = the negative prompt. As in diffusers, the
 * negative prompt ignores {@code clip_skip} (always {@code hidden_states[-2]}).
 *
 * <p>{@code add_time_ids} per row: original size (h, w), crop top-left, target size (h, w) from the
 * request's {@link MicroConditioning} (null = the image size and 0, 0); the unconditional row gets
 * the same ids (diffusers' {@code negative_add_time_ids = add_time_ids} when no negative sizes are
 * given). Everything is per row, so rows that differ in any of it share a batch.
 *
 * <p>Prompt embeddings are cached on the Java heap as {@link StableDiffusionFamily} does.
 */
public final class StableDiffusionXLFamily
        extends UNetFamily<StableDiffusionXLFamily.Key, StableDiffusionXLFamily.Encoded> {
    /** diffusers' {@code StableDiffusionXLPipeline.__call__} default {@code guidance_scale}. */
    public static final double DEFAULT_GUIDANCE_SCALE = 5.0;

    /** diffusers' {@code StableDiffusionXLImg2ImgPipeline.__call__} default {@code strength}. */
    public static final double DEFAULT_IMG2IMG_STRENGTH = 0.3;

    private final CLIPTokenizer tokenizer2;
    private final CLIPTextModelWithProjection textEncoder2;
    private final boolean forceZerosForEmptyPrompt;

    /** What a prompt pair's embeddings were computed from. */
    record Key(String prompt, String prompt2, int clipSkip) {}

    /** One prompt pair's embeddings: {@code [1, 77, width1 + width2]} and pooled {@code [1, P]}. */
    record Encoded(PromptCache.Entry embeds, PromptCache.Entry pooled) {}

    /**
     * @param forceZerosForEmptyPrompt {@code force_zeros_for_empty_prompt} of {@code
     *     model_index.json}
     * @throws IllegalArgumentException when the encoders' widths do not add up to the UNet's {@code
     *     cross_attention_dim} and pooled width
     */
    public StableDiffusionXLFamily(
            CLIPTokenizer tokenizer,
            CLIPTokenizer tokenizer2,
            CLIPTextModel textEncoder,
            CLIPTextModelWithProjection textEncoder2,
            UNet2DConditionModel unet,
            boolean forceZerosForEmptyPrompt,
            FamilySettings settings) {
        super(tokenizer, textEncoder, unet, settings);
        this.tokenizer2 = tokenizer2;
        this.textEncoder2 = textEncoder2;
        this.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt;
        checkWidths();
    }

    private void checkWidths() {
        var c = unet.config();
        if (!c.hasTextTimeEmbedding()) {
            throw new IllegalArgumentException(
                    "an SDXL UNet needs addition_embed_type \"text_time\", this one has "
                            + c.additionEmbedType());
        }
        int width = textEncoder.hiddenSize() + textEncoder2.config().hiddenSize();
        if (width != c.crossAttentionDim()) {
            throw new IllegalArgumentException(
                    "the text encoders' hidden sizes "
                            + textEncoder.hiddenSize()
                            + " + "
                            + textEncoder2.config().hiddenSize()
                            + " do not add up to the UNet's cross_attention_dim "
                            + c.crossAttentionDim());
        }
        if (textEncoder2.projectionDim() != c.addedTextEmbedDim()) {
            throw new IllegalArgumentException(
                    "text_encoder_2's projection_dim "
                            + textEncoder2.projectionDim()
                            + " is not the pooled width the UNet takes ("
                            + c.addedTextEmbedDim()
                            + " = projection_class_embeddings_input_dim "
                            + c.projectionClassEmbeddingsInputDim()
                            + " - 6 × addition_time_embed_dim "
                            + c.additionTimeEmbedDim()
                            + ")");
        }
    }

    // As encode_prompt tokenizes: each tokenizer after its maybe_convert_prompt, prompt_2 = prompt
    // where null; the negative prompts only with guidance and unless zeroed
    // (force_zeros_for_empty_prompt with no negative prompt).
    @Override
    public List<PromptTruncation> truncations(ImageRequest r, boolean guidance) {
        List<PromptTruncation> cuts = new ArrayList<>(2);
        addPair(cuts, "prompt", r.prompt(), "prompt_2", r.prompt2());
        if (guidance && !(r.negativePrompt() == null && forceZerosForEmptyPrompt)) {
            String negative = r.negativePrompt() == null ? "" : r.negativePrompt();
            addPair(cuts, "negative_prompt", negative, "negative_prompt_2", r.negativePrompt2());
        }
        return cuts;
    }

    private void addPair(
            List<PromptTruncation> cuts, String input, String text, String input2, String text2) {
        addClip(cuts, input, text);
        String second = text2 == null ? text : text2;
        PromptTruncation.add(
                cuts,
                PromptTruncation.clip(
                        text2 == null ? input : input2,
                        tokenizer2,
                        tokenizer2.maybeConvertPrompt(second)));
    }

    /** {@code tokenizer_2} (pads with its own pad token, {@code !} in SDXL). */
    public CLIPTokenizer tokenizer2() {
        return tokenizer2;
    }

    @Override
    public Map<String, CLIPTokenizer> tokenizers() {
        Map<String, CLIPTokenizer> m = new LinkedHashMap<>();
        m.put("tokenizer", tokenizer);
        m.put("tokenizer_2", tokenizer2);
        return m;
    }

    public CLIPTextModelWithProjection textEncoder2() {
        return textEncoder2;
    }

    /** {@code force_zeros_for_empty_prompt} of the folder. */
    public boolean forceZerosForEmptyPrompt() {
        return forceZerosForEmptyPrompt;
    }

    /** {@code hidden_states[-(clip_skip + 2)]} must exist in both encoders. */
    @Override
    public int textEncoderLayers() {
        return Math.min(textEncoder.numHiddenLayers(), textEncoder2.textModel().numHiddenLayers());
    }

    @Override
    public double defaultGuidanceScale() {
        return DEFAULT_GUIDANCE_SCALE;
    }

    @Override
    public double defaultImageToImageStrength() {
        return DEFAULT_IMG2IMG_STRENGTH;
    }

    /**
     * LoRA, ControlNet and inpainting on SDXL are other diffusers code paths (two text encoders'
     * LoRA names, {@code StableDiffusionXLControlNetPipeline}, {@code
     * StableDiffusionXLInpaintPipeline}) that sdbatch does not implement: refused, never run wrong.
     */
    @Override
    public void checkRequest(ImageRequest r) {
        if (!r.loras().isEmpty()) {
            throw new IllegalArgumentException(
                    "LoRA on an SDXL model is not supported (loras "
                            + r.loras().stream().map(l -> l.path().getFileName()).toList()
                            + ")");
        }
        if (r.hasControlNets()) {
            throw new IllegalArgumentException(
                    "ControlNet on an SDXL model (diffusers' StableDiffusionXLControlNetPipeline)"
                            + " is not supported");
        }
        if (r.isInpainting()) {
            throw new IllegalArgumentException(
                    "inpainting on an SDXL model (diffusers' StableDiffusionXLInpaintPipeline) is"
                            + " not supported");
        }
    }

    // Port of diffusers pipeline_stable_diffusion_xl.StableDiffusionXLPipeline.encode_prompt and
    // the add_time_ids of its __call__ (steps 3 and 7), one row at a time.
    @Override
    public Conditioning encode(NDManager run, List<ImageRequest> batch, boolean guidance) {
        int b = batch.size();
        List<NDArray> embeds = new ArrayList<>(2 * b);
        List<NDArray> pooled = new ArrayList<>(2 * b);
        float[] timeIds = new float[(guidance ? 2 : 1) * b * 6];
        List<NDArray> condEmbeds = new ArrayList<>(b);
        List<NDArray> condPooled = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            ImageRequest r = batch.get(i);
            int clipSkip = r.clipSkip() == null ? 0 : r.clipSkip();
            String prompt2 = r.prompt2() == null ? r.prompt() : r.prompt2();
            Encoded cond = promptEmbeds(run, r.prompt(), prompt2, clipSkip);
            condEmbeds.add(cond.embeds().toArray(run, dtype));
            condPooled.add(cond.pooled().toArray(run, dtype));
            if (guidance) {
                if (r.negativePrompt() == null && forceZerosForEmptyPrompt) {
                    // zero_out_negative_prompt: zeros_like(prompt_embeds), zeros_like(pooled)
                    embeds.add(run.zeros(new Shape(cond.embeds().shape()), dtype));
                    pooled.add(run.zeros(new Shape(cond.pooled().shape()), dtype));
                } else {
                    String negative = r.negativePrompt() == null ? "" : r.negativePrompt();
                    String negative2 = r.negativePrompt2() == null ? negative : r.negativePrompt2();
                    // the negative branch takes hidden_states[-2] whatever clip_skip says
                    Encoded uncond = promptEmbeds(run, negative, negative2, 0);
                    embeds.add(uncond.embeds().toArray(run, dtype));
                    pooled.add(uncond.pooled().toArray(run, dtype));
                }
            }
            MicroConditioning micro =
                    r.microConditioning() == null
                            ? new MicroConditioning(null, null, null, null, null, null)
                            : r.microConditioning();
            double[] ids = micro.addTimeIds(r.width(), r.height());
            for (int k = 0; k < 6; k++) {
                // [negative_add_time_ids..., add_time_ids...]: the same ids for both halves
                timeIds[i * 6 + k] = (float) ids[k];
                if (guidance) {
                    timeIds[(b + i) * 6 + k] = (float) ids[k];
                }
            }
        }
        embeds.addAll(condEmbeds);
        pooled.addAll(condPooled);
        int rows = embeds.size();
        return new Conditioning(
                NDArrays.concat(new NDList(embeds), 0),
                NDArrays.concat(new NDList(pooled), 0),
                run.create(timeIds, new Shape(rows, 6)));
    }

    /** One prompt pair through both encoders, from the cache or the encoders. */
    private Encoded promptEmbeds(NDManager run, String prompt, String prompt2, int clipSkip) {
        Key key = new Key(prompt, prompt2, clipSkip);
        Encoded hit = promptCache.get(key);
        if (hit != null) {
            return hit;
        }
        // diffusers' maybe_convert_prompt (textual inversion) runs per tokenizer.
        CLIPTokenizer.Encoding ids1 = tokenizer.encode(tokenizer.maybeConvertPrompt(prompt));
        CLIPTokenizer.Encoding ids2 = tokenizer2.encode(tokenizer2.maybeConvertPrompt(prompt2));
        try (NDManager scope = run.newSubManager()) {
            NDArray in1 = scope.create(ids1.inputIds(), new Shape(1, ids1.inputIds().length));
            NDArray in2 = scope.create(ids2.inputIds(), new Shape(1, ids2.inputIds().length));
            // "2" because SDXL always indexes from the penultimate layer.
            NDArray h1 = textEncoder.forward(in1).hiddenStateFromEnd(clipSkip + 2);
            CLIPTextModelWithProjection.Output out2 = textEncoder2.forward(in2);
            NDArray h2 = out2.text().hiddenStateFromEnd(clipSkip + 2);
            NDArray both = h1.concat(h2.toType(h1.getDataType(), false), -1);
            hit = new Encoded(PromptCache.Entry.of(both), PromptCache.Entry.of(out2.textEmbeds()));
        }
        promptCache.put(key, hit);
        return hit;
    }

    /** {@code added_cond_kwargs}: {@code text_embeds} (pooled) and {@code time_ids}. */
    @Override
    protected AddedConditions addedConditions(Conditioning conditioning) {
        return new AddedConditions(conditioning.pooledEmbeds(), conditioning.addTimeIds());
    }

    @Override
    public void close() {
        textEncoder2.close();
        super.close();
    }
}
