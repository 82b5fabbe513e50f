package sdbatch.pipeline.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.Conditioning;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.ModelFamily;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.models.CLIPTextModelWithProjection;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.models.T5EncoderModel;
import sdbatch.pipeline.schedulers.FlowMatchEulerDiscreteScheduler;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.pipeline.tokenizer.T5Tokenizer;

/**
 * Stable Diffusion 3 and 3.5: two CLIP text encoders with projection and T5 for the text, an MMDiT
 * ({@link SD3Transformer2DModel}) predicting the flow-matching velocity — diffusers' {@code
 * StableDiffusion3Pipeline.encode_prompt} and its {@code self.transformer(...)} call.
 *
 * <p>The prompt embeddings of a row are both CLIPs' penultimate hidden states ({@code
 * hidden_states[-(clip_skip + 2)]}, no final layer norm) side by side, zero-padded to T5's width,
 * followed along the sequence by T5's {@code max_sequence_length} tokens; the pooled embedding is
 * both CLIPs' projections side by side. Without T5 (a folder without {@code text_encoder_3}, or the
 * without-T5 option) T5's part is zeros of {@code [max_sequence_length, joint_attention_dim]}, as
 * diffusers does with {@code text_encoder_3=None}. {@code prompt_2}/{@code prompt_3} default to the
 * prompt; a null negative prompt is encoded as {@code ""} (unlike SDXL, SD3 has no zeros for an
 * empty negative prompt), and {@code negative_prompt_2}/{@code _3} default to it. Every field is
 * per row, so rows with different prompts share one batch.
 */
public final class StableDiffusion3Family implements ModelFamily {
    /** diffusers' {@code StableDiffusion3Pipeline.__call__} default {@code guidance_scale}. */
    public static final double DEFAULT_GUIDANCE_SCALE = 7.0;

    /** diffusers' {@code StableDiffusion3Pipeline.__call__} default {@code num_inference_steps}. */
    public static final int DEFAULT_STEPS = 28;

    /** diffusers' default {@code max_sequence_length}. */
    public static final int DEFAULT_MAX_SEQUENCE_LENGTH = 256;

    private final StableDiffusion3TextEncoders text;
    private final SD3Transformer2DModel transformer;

    /**
     * @param text the three text encoders with their tokenizers
     */
    StableDiffusion3Family(StableDiffusion3TextEncoders text, SD3Transformer2DModel transformer) {
        this.text = text;
        this.transformer = transformer;
    }

    /**
     * Loads the family's components of a {@code StableDiffusion3Pipeline} folder into {@code
     * manager}: {@code tokenizer}/{@code text_encoder}, {@code tokenizer_2}/{@code text_encoder_2}
     * (CLIPTextModelWithProjection), {@code tokenizer_3}/{@code text_encoder_3} (T5) unless the
     * folder has none or {@code withoutT5}, and {@code transformer}. On failure what was loaded is
     * closed by the caller's manager.
     *
     * @param settings its prompt cache size is capped at {@link
     *     StableDiffusion3TextEncoders#MAX_CACHED_PROMPTS}
     * @throws sdbatch.pipeline.weights.ModelLoadException naming the folder or file and the reason
     * @throws IOException if a file cannot be read
     */
    public static StableDiffusion3Family load(
            ModelIndex index, NDManager manager, boolean withoutT5, FamilySettings settings)
            throws IOException {
        DataType dtype = settings.dtype();
        TwoClipEncoders<CLIPTextModelWithProjection> clips =
                TwoClipEncoders.load(index, manager, dtype, CLIPTextModelWithProjection::load);
        boolean t5 = !withoutT5 && index.components().containsKey("text_encoder_3");
        T5Tokenizer tokenizer3 = t5 ? T5Tokenizer.load(index.componentDir("tokenizer_3")) : null;
        try {
            T5EncoderModel textEncoder3 =
                    t5
                            ? T5EncoderModel.load(
                                    index.componentDir("text_encoder_3"), manager, dtype)
                            : null;
            SD3Transformer2DModel transformer =
                    SD3Transformer2DModel.load(index.componentDir("transformer"), manager, dtype);
            StableDiffusion3TextEncoders text =
                    new StableDiffusion3TextEncoders(
                            clips.tokenizer(),
                            clips.tokenizer2(),
                            tokenizer3,
                            clips.textEncoder(),
                            clips.textEncoder2(),
                            textEncoder3,
                            transformer.config().jointAttentionDim(),
                            dtype,
                            settings.promptCacheSize());
            return new StableDiffusion3Family(text, transformer);
        } catch (IOException | RuntimeException e) {
            if (tokenizer3 != null) {
                tokenizer3.close();
            }
            throw e;
        }
    }

    @Override
    public CLIPTokenizer tokenizer() {
        return text.tokenizer();
    }

    public CLIPTokenizer tokenizer2() {
        return text.tokenizer2();
    }

    /** T5's tokenizer, or null when the family runs without T5. */
    @Override
    public T5Tokenizer t5Tokenizer() {
        return text.tokenizer3();
    }

    @Override
    public Map<String, CLIPTokenizer> tokenizers() {
        return text.clipTokenizers();
    }

    // As encode_prompt tokenizes: both CLIPs (no maybe_convert_prompt in SD3) and T5 at the
    // request's max_sequence_length, prompt_2/_3 = prompt where null; the negative prompts (null =
    // "") only with guidance. Without T5, _get_t5_prompt_embeds returns zeros before tokenizing.
    @Override
    public List<PromptTruncation> truncations(ImageRequest r, boolean guidance) {
        List<PromptTruncation> cuts = new ArrayList<>(3);
        int maxLen = maxSequenceLength(r);
        text.addTexts(cuts, "", r.prompt(), r.prompt2(), r.prompt3(), maxLen);
        if (guidance) {
            String negative = r.negativePrompt() == null ? "" : r.negativePrompt();
            text.addTexts(
                    cuts, "negative_", negative, r.negativePrompt2(), r.negativePrompt3(), maxLen);
        }
        return cuts;
    }

    /** Whether T5 is loaded (else its part of the prompt embeddings is zeros). */
    public boolean hasT5() {
        return text.hasT5();
    }

    public SD3Transformer2DModel transformer() {
        return transformer;
    }

    /**
     * The transformer's {@code in_channels}: diffusers' SD3 {@code __call__} (step 4) takes {@code
     * num_channels_latents} from it, not from the VAE. A VAE whose {@code latent_channels} differs
     * fails every request's input check ({@code RequestValidator}).
     */
    @Override
    public int latentChannels() {
        return transformer.config().inChannels();
    }

    /** The transformer's {@code sample_size}: the default latent height and width. */
    @Override
    public int sampleSize() {
        return transformer.config().sampleSize();
    }

    /** diffusers' SD3 {@code check_inputs}: sizes divisible by VAE factor × {@code patch_size}. */
    @Override
    public int latentSizeMultiple() {
        return transformer.config().patchSize();
    }

    @Override
    public int inChannels() {
        return transformer.config().inChannels();
    }

    /** The shallower CLIP's layers: {@code hidden_states[-(clip_skip + 2)]} must exist in both. */
    @Override
    public int textEncoderLayers() {
        return text.clipLayers();
    }

    @Override
    public int defaultSteps() {
        return DEFAULT_STEPS;
    }

    @Override
    public double defaultGuidanceScale() {
        return DEFAULT_GUIDANCE_SCALE;
    }

    /**
     * img2img, inpainting, ControlNet and LoRA on SD3 are other diffusers pipelines or loaders
     * ({@code StableDiffusion3Img2ImgPipeline}, {@code StableDiffusion3InpaintPipeline}, {@code
     * StableDiffusion3ControlNetPipeline}, {@code SD3LoraLoaderMixin}) that sdbatch does not
     * implement: refused, never run wrong. So are the UNet schedulers (DDIM, PNDM, Euler, …): the
     * transformer predicts a flow-matching velocity, which only a flow-matching scheduler steps.
     *
     * @throws IllegalArgumentException naming what is not supported
     */
    @Override
    public void checkRequest(ImageRequest r) {
        if (r.initImage() != null) {
            throw new IllegalArgumentException(
                    (r.isInpainting() ? "inpainting" : "img2img")
                            + " on an SD3 model is not supported");
        }
        if (r.hasControlNets()) {
            throw new IllegalArgumentException("ControlNet on an SD3 model is not supported");
        }
        if (!r.loras().isEmpty()) {
            throw new IllegalArgumentException(
                    "LoRA on an SD3 model is not supported (loras "
                            + r.loras().stream().map(l -> l.path().getFileName()).toList()
                            + ")");
        }
        int max = maxSequenceLength(r);
        if (max < 1 || max > 512) {
            throw new IllegalArgumentException(
                    "max_sequence_length " + max + " must be in [1, 512] (diffusers' limit)");
        }
    }

    /**
     * diffusers' SD3 {@code __call__} step 5: with a {@code use_dynamic_shifting} scheduler, {@code
     * mu = calculate_shift(image_seq_len, ...)} where {@code image_seq_len} is the latents' patch
     * count, {@code (height / vae_scale_factor / patch_size) * (width / ... )}.
     */
    // Port of diffusers pipeline_stable_diffusion_3.StableDiffusion3Pipeline.__call__ (step 5)
    @Override
    public void prepareScheduler(Scheduler scheduler, ImageRequest first, int vaeScaleFactor) {
        if (scheduler instanceof FlowMatchEulerDiscreteScheduler flow
                && flow.config().useDynamicShifting()) {
            int p = transformer.config().patchSize();
            long h = first.height() / vaeScaleFactor / p;
            long w = first.width() / vaeScaleFactor / p;
            flow.setMu(FlowMatchEulerDiscreteScheduler.calculateShift(flow.config(), h * w));
        }
    }

    /** SD3 is trained for flow matching: only FlowMatchEulerDiscreteScheduler fits. */
    @Override
    public boolean flowMatching() {
        return true;
    }

    /** The request's {@code max_sequence_length} (diffusers' default 256). */
    public static int maxSequenceLength(ImageRequest r) {
        return r.maxSequenceLength() == null ? DEFAULT_MAX_SEQUENCE_LENGTH : r.maxSequenceLength();
    }

    // Port of diffusers pipeline_stable_diffusion_3.StableDiffusion3Pipeline.encode_prompt and
    // step 3 of its __call__ ([negative, prompt] concatenated), one row at a time.
    @Override
    public Conditioning encode(NDManager run, List<ImageRequest> batch, boolean guidance) {
        List<NDArray> cond = new ArrayList<>();
        List<NDArray> condPooled = new ArrayList<>();
        List<NDArray> uncond = new ArrayList<>();
        List<NDArray> uncondPooled = new ArrayList<>();
        for (ImageRequest r : batch) {
            int maxLen = maxSequenceLength(r);
            int clipSkip = r.clipSkip() == null ? 0 : r.clipSkip();
            NDArray[] c = rowEmbeds(run, r.prompt(), r.prompt2(), r.prompt3(), clipSkip, maxLen);
            cond.add(c[0]);
            condPooled.add(c[1]);
            if (guidance) {
                // negative_prompt = negative_prompt or ""; _2 and _3 default to it; clip_skip
                // is not applied to the negative prompt (clip_skip=None: hidden_states[-2])
                String negative = r.negativePrompt() == null ? "" : r.negativePrompt();
                NDArray[] u =
                        rowEmbeds(
                                run, negative, r.negativePrompt2(), r.negativePrompt3(), 0, maxLen);
                uncond.add(u[0]);
                uncondPooled.add(u[1]);
            }
        }
        List<NDArray> embeds = new ArrayList<>(uncond);
        embeds.addAll(cond);
        List<NDArray> pooled = new ArrayList<>(uncondPooled);
        pooled.addAll(condPooled);
        return new Conditioning(
                NDArrays.concat(new NDList(embeds), 0),
                NDArrays.concat(new NDList(pooled), 0),
                null);
    }

    /** One row's embeddings of a prompt triple; {@code p2}/{@code p3} null = {@code p}. */
    private NDArray[] rowEmbeds(
            NDManager run, String p, String p2, String p3, int clipSkip, int maxLen) {
        return text.promptEmbeds(
                run, p, p2 == null ? p : p2, p3 == null ? p : p3, clipSkip, maxLen);
    }

    @Override
    public void weightsChanged() {
        text.clearCache();
    }

    @Override
    public NDArray predict(NDArray modelInput, NDArray timestep, Conditioning conditioning) {
        return transformer.forward(
                modelInput,
                timestep,
                conditioning.encoderHiddenStates(),
                conditioning.pooledEmbeds());
    }

    @Override
    public void close() {
        text.close();
        transformer.close();
    }
}
