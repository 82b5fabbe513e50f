package sdbatch.pipeline.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.Conditioning;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.pipeline.weights.LiveParameters;

/**
 * Stable Diffusion 1.x/2.x: one CLIP text encoder (its last hidden state, or an earlier layer with
 * {@code clip_skip}, then the final layer norm) and a UNet2DConditionModel — diffusers' {@code
 * StableDiffusionPipeline.encode_prompt} and its {@code self.unet(...)} call.
 *
 * <p>Prompt embeddings are cached (sweeps repeat the same prompt many times) on the Java heap, so
 * concurrent generations share entries without sharing native arrays.
 */
public final class StableDiffusionFamily extends UNetFamily<PromptCache.Key, PromptCache.Entry> {
    /** A family of the components {@code tokenizer}, {@code text_encoder} and {@code unet}. */
    public StableDiffusionFamily(
            CLIPTokenizer tokenizer,
            CLIPTextModel textEncoder,
            UNet2DConditionModel unet,
            FamilySettings settings) {
        super(tokenizer, textEncoder, unet, settings);
    }

    // As encode_prompt tokenizes: maybe_convert_prompt first; the negative prompt only with
    // guidance (a null one is "", which nothing cuts).
    @Override
    public List<PromptTruncation> truncations(ImageRequest r, boolean guidance) {
        List<PromptTruncation> cuts = new ArrayList<>(2);
        addClip(cuts, "prompt", r.prompt());
        if (guidance && r.negativePrompt() != null) {
            addClip(cuts, "negative_prompt", r.negativePrompt());
        }
        return cuts;
    }

    @Override
    public int textEncoderLayers() {
        return textEncoder.numHiddenLayers();
    }

    @Override
    public UNetConfig controlNetUnet() {
        return unet.config();
    }

    @Override
    public Map<String, LiveParameters> loraComponents() {
        return Map.of("unet", unet.liveParameters(), "text_encoder", textEncoder.liveParameters());
    }

    @Override
    public Conditioning encode(NDManager run, List<ImageRequest> batch, boolean guidance) {
        List<NDArray> cond = new ArrayList<>();
        List<NDArray> uncond = new ArrayList<>();
        for (ImageRequest r : batch) {
            int clipSkip = r.clipSkip() == null ? 0 : r.clipSkip();
            cond.add(promptEmbedding(run, r.prompt(), clipSkip));
            if (guidance) {
                // diffusers: negative_prompt None -> [""]; a negative prompt replaces it. Its
                // encode_prompt applies clip_skip to the prompt only: the unconditional embeddings
                // always come from the last layer (text_encoder(...)[0]).
                String negative = r.negativePrompt() == null ? "" : r.negativePrompt();
                uncond.add(promptEmbedding(run, negative, 0));
            }
        }
        List<NDArray> all = new ArrayList<>(uncond);
        all.addAll(cond);
        return new Conditioning(NDArrays.concat(new NDList(all), 0));
    }

    /** [1, 77, hidden] for one prompt, from the cache or the text encoder. */
    private NDArray promptEmbedding(NDManager run, String prompt, int clipSkip) {
        PromptCache.Entry hit = promptCache.get(new PromptCache.Key(prompt, clipSkip));
        if (hit == null) {
            // diffusers' maybe_convert_prompt: a multi-vector embedding's trigger stands for all
            // its tokens.
            CLIPTokenizer.Encoding enc = tokenizer.encode(tokenizer.maybeConvertPrompt(prompt));
            try (NDManager scope = run.newSubManager()) {
                NDArray ids = scope.create(enc.inputIds(), new Shape(1, enc.inputIds().length));
                NDArray hidden = textEncoder.encode(ids, clipSkip);
                hit = PromptCache.Entry.of(hidden);
                hidden.close();
            }
            promptCache.put(new PromptCache.Key(prompt, clipSkip), hit);
        }
        return hit.toArray(run, dtype);
    }
}
