package sdbatch.pipeline.family;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.models.CLIPTextModelWithProjection;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;

/**
 * The two CLIP components SDXL's and SD3's pipelines both have (diffusers' {@code tokenizer} /
 * {@code text_encoder} and {@code tokenizer_2} / {@code text_encoder_2}): the second encoder is a
 * {@code CLIPTextModelWithProjection} in both, the first SDXL's {@code CLIPTextModel} or SD3's
 * {@code CLIPTextModelWithProjection}.
 *
 * @param <E> the first text encoder's class
 * @param tokenizer {@code tokenizer}
 * @param tokenizer2 {@code tokenizer_2}
 * @param textEncoder {@code text_encoder}
 * @param textEncoder2 {@code text_encoder_2}
 */
public record TwoClipEncoders<E>(
        CLIPTokenizer tokenizer,
        CLIPTokenizer tokenizer2,
        E textEncoder,
        CLIPTextModelWithProjection textEncoder2) {

    /**
     * How the first text encoder loads from its folder as diffusers component {@code component}:
     * {@code CLIPTextModel::load} or {@code CLIPTextModelWithProjection::load}.
     */
    @FunctionalInterface
    public interface EncoderLoader<E> {
        /** Loads the encoder of {@code dir} into a sub-manager of {@code manager}. */
        E load(Path dir, NDManager manager, DataType dtype, String component) throws IOException;
    }

    /**
     * Loads both tokenizers, then both encoders in {@code dtype} into {@code manager}; on failure
     * what was loaded is closed by the caller's manager.
     *
     * @param firstEncoder how {@code text_encoder} loads
     * @throws sdbatch.pipeline.weights.ModelLoadException naming the folder or file and the reason
     * @throws IOException if a file cannot be read
     */
    public static <E> TwoClipEncoders<E> load(
            ModelIndex index, NDManager manager, DataType dtype, EncoderLoader<E> firstEncoder)
            throws IOException {
        CLIPTokenizer tokenizer = CLIPTokenizer.load(index.componentDir("tokenizer"));
        CLIPTokenizer tokenizer2 = CLIPTokenizer.load(index.componentDir("tokenizer_2"));
        E textEncoder =
                firstEncoder.load(
                        index.componentDir("text_encoder"), manager, dtype, "text_encoder");
        CLIPTextModelWithProjection textEncoder2 =
                CLIPTextModelWithProjection.load(
                        index.componentDir("text_encoder_2"), manager, dtype, "text_encoder_2");
        return new TwoClipEncoders<>(tokenizer, tokenizer2, textEncoder, textEncoder2);
    }
}
