package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.Weights;

/**
 * transformers' {@code CLIPTextModelWithProjection}: the {@link CLIPTextModel} transformer under
 * {@code text_model} and a bias-free {@code text_projection} Linear ({@code hidden_size} to {@code
 * projection_dim}) applied to the pooled output. SDXL's {@code text_encoder_2} and both of SD3's
 * CLIP encoders are this model; the projected pooled output is their pooled text embedding.
 *
 * <p>Field paths are the state-dict keys: {@code text_model.embeddings...}, {@code
 * text_model.encoder.layers.<i>...}, {@code text_model.final_layer_norm}, {@code
 * text_projection.weight} ({@code [projection_dim, hidden_size]}). A checkpoint without the {@code
 * text_model.} prefix is read as well, as for {@link CLIPTextModel}.
 *
 * <p>Thread-safety and memory as {@link CLIPTextModel}: outputs are attached to the ids' manager,
 * temporaries closed before a call returns; {@link #close()} releases the weights.
 */
public final class CLIPTextModelWithProjection implements AutoCloseable {

    private final CLIPTextModel textModel;
    private final NDArray textProjection;

    /** Builds the model from a config and a weight source (it owns the arrays it takes). */
    public CLIPTextModelWithProjection(CLIPTextConfig config, Weights weights) {
        this(config, weights, null, new LiveParameters("text_encoder_2", null, null));
    }

    private CLIPTextModelWithProjection(
            CLIPTextConfig config, Weights weights, NDManager ownedManager, LiveParameters live) {
        // The projection is read first, so that closing the text model (and the manager a load
        // made) always runs after the projection is closed: see close().
        this.textProjection =
                weights.get(
                        "text_projection.weight",
                        new Shape(config.projectionDim(), config.hiddenSize()));
        this.textModel = new CLIPTextModel(config, weights, ownedManager, live);
    }

    /**
     * Loads {@code config.json} and the safetensors weights of a {@code
     * CLIPTextModelWithProjection} folder, as {@link CLIPTextModel#load(Path, NDManager, DataType,
     * String)} does.
     *
     * @param component the diffusers component name ({@code text_encoder_2}; SD3 also {@code
     *     text_encoder})
     * @throws ModelLoadException for a bad config, or one error listing every missing, unexpected
     *     and misshapen tensor
     * @throws IOException if a file cannot be read
     */
    public static CLIPTextModelWithProjection load(
            Path dir, NDManager manager, DataType dtype, String component) throws IOException {
        return CLIPTextLoading.load(
                dir, manager, dtype, component, CLIPTextModelWithProjection::new);
    }

    /** The transformer under {@code text_model} (its config, clip-skip check, token rows). */
    public CLIPTextModel textModel() {
        return textModel;
    }

    /** The parsed configuration. */
    public CLIPTextConfig config() {
        return textModel.config();
    }

    /** Width of {@code text_embeds}: {@code projection_dim}. */
    public int projectionDim() {
        return (int) textProjection.getShape().get(0);
    }

    /** The dtype of the weights and of the outputs. */
    public DataType dtype() {
        return textModel.dtype();
    }

    /** The parameters by state-dict key (for LoRA merges), the projection included. */
    public LiveParameters liveParameters() {
        return textModel.liveParameters();
    }

    /**
     * transformers' {@code CLIPTextModelWithProjection(input_ids, output_hidden_states=True)}:
     * {@code text_embeds} = {@code text_projection(pooled_output)}, where the pooled output is the
     * last hidden state at each row's end-of-text token (chosen as {@link
     * CLIPTextModel#pooledOutput} says: by {@code eos_token_id}, or the largest id for the legacy
     * id 2), and the text model's hidden states.
     *
     * @param inputIds integer token ids {@code [B, L]}
     * @return arrays in {@link #dtype()}, attached to {@code inputIds}' manager
     */
    // Port of transformers modeling_clip.CLIPTextModelWithProjection.forward.
    public Output forward(NDArray inputIds) {
        CLIPTextModelOutput text = textModel.forward(inputIds);
        NDArray pooled = text.pooledOutput();
        NDArray textEmbeds =
                InnerScope.keep(
                        () ->
                                pooled.getNDArrayInternal()
                                        .linear(pooled, textProjection, null)
                                        .singletonOrThrow());
        textEmbeds.attach(inputIds.getManager());
        return new Output(textEmbeds, text);
    }

    /**
     * transformers' {@code CLIPTextModelOutput}.
     *
     * @param textEmbeds {@code [B, projection_dim]}: the projected pooled output
     * @param text the text model's output: last hidden state, pooled output, hidden states
     */
    public record Output(NDArray textEmbeds, CLIPTextModelOutput text) {}

    /** Releases the weights (and the manager a load made for them). */
    @Override
    public void close() {
        textProjection.close();
        textModel.close();
    }
}
