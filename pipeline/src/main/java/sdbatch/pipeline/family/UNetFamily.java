package sdbatch.pipeline.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import sdbatch.pipeline.Conditioning;
import sdbatch.pipeline.ModelFamily;
import sdbatch.pipeline.models.AddedConditions;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.ControlNetOutput;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;

/**
 * What the UNet families (SD 1.x/2.x, SDXL) share, as diffusers' {@code StableDiffusionPipeline}
 * and {@code StableDiffusionXLPipeline} share these components: the first CLIP tokenizer and text
 * encoder, the UNet and what the pipeline asks of it (default size, size multiple, input channels),
 * the VAE's latent channels, the dtype prompt embeddings are handed over in, and the heap cache of
 * prompt embeddings that a weight change empties.
 *
 * @param <K> what a prompt embedding is computed from
 * @param <V> the embeddings cached per key
 */
abstract class UNetFamily<K, V> implements ModelFamily {
    /** {@code tokenizer}: the first (SD: only) CLIP tokenizer. */
    protected final CLIPTokenizer tokenizer;

    /** {@code text_encoder}: CLIP ViT-L (SD 1.x, SDXL) or OpenCLIP ViT-H (SD 2.x). */
    protected final CLIPTextModel textEncoder;

    /** The noise predictor. */
    protected final UNet2DConditionModel unet;

    /** The dtype the UNet computes in. */
    protected final DataType dtype;

    /** Prompt embeddings on the Java heap, so concurrent generations share entries. */
    protected final PromptCache<K, V> promptCache;

    private final int latentChannels;

    UNetFamily(
            CLIPTokenizer tokenizer,
            CLIPTextModel textEncoder,
            UNet2DConditionModel unet,
            FamilySettings settings) {
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.dtype = settings.dtype();
        this.latentChannels = settings.latentChannels();
        this.promptCache = new PromptCache<>(settings.promptCacheSize());
    }

    @Override
    public CLIPTokenizer tokenizer() {
        return tokenizer;
    }

    public CLIPTextModel textEncoder() {
        return textEncoder;
    }

    /** Adds what {@code tokenizer} cuts from {@code text} (after maybe_convert_prompt). */
    protected void addClip(List<PromptTruncation> cuts, String input, String text) {
        PromptTruncation.add(
                cuts, PromptTruncation.clip(input, tokenizer, tokenizer.maybeConvertPrompt(text)));
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    @Override
    public int latentChannels() {
        return latentChannels;
    }

    /** The UNet's {@code sample_size}: the default latent size. */
    @Override
    public int sampleSize() {
        Integer s = unet.config().sampleSize();
        if (s == null) {
            throw new IllegalStateException(
                    "the UNet config has no sample_size: the default image size is unknown");
        }
        return s;
    }

    /** 2^(levels − 1): latent sizes the up blocks can bring back to every skip connection. */
    @Override
    public int latentSizeMultiple() {
        return 1 << (unet.config().blockOutChannels().size() - 1);
    }

    @Override
    public int inChannels() {
        return unet.config().inChannels();
    }

    @Override
    public void weightsChanged() {
        promptCache.clear();
    }

    @Override
    public NDArray predict(NDArray modelInput, NDArray timestep, Conditioning conditioning) {
        return predict(modelInput, timestep, conditioning, null);
    }

    /**
     * The UNet's output ({@code self.unet(...)} of the pipelines' denoising loop), with the
     * family's added conditioning and a ControlNet's residuals where given (null: none).
     */
    @Override
    public NDArray predict(
            NDArray modelInput,
            NDArray timestep,
            Conditioning conditioning,
            ControlNetOutput additionalResiduals) {
        return unet.forward(
                modelInput,
                timestep,
                conditioning.encoderHiddenStates(),
                addedConditions(conditioning),
                additionalResiduals);
    }

    /** diffusers' {@code added_cond_kwargs} of the UNet call: none but SDXL's {@code text_time}. */
    protected AddedConditions addedConditions(Conditioning conditioning) {
        return null;
    }

    @Override
    public void close() {
        textEncoder.close();
        unet.close();
    }
}
