package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.models.blocks.AdaLayerNormContinuous;
import sdbatch.pipeline.models.blocks.CombinedTimestepTextProjEmbeddings;
import sdbatch.pipeline.models.blocks.JointTransformerBlock;
import sdbatch.pipeline.models.blocks.PatchEmbed;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code SD3Transformer2DModel} (models/transformers/transformer_sd3.py), the MMDiT of
 * Stable Diffusion 3 and 3.5: latents cut into patches ({@code pos_embed}), a conditioning vector
 * from the timestep and the pooled text ({@code time_text_embed}), the prompt embeddings projected
 * to the blocks' width ({@code context_embedder}), {@code num_layers} joint blocks ({@code
 * transformer_blocks}, the last one context-pre-only), then {@code norm_out}, {@code proj_out} and
 * unpatchify. It predicts the flow-matching velocity.
 *
 * <p>Field paths are the state-dict keys ({@code transformer_blocks.<i>.attn.to_q.weight}, …).
 * Outputs belong to the caller's scope; temporaries are closed per block; thread-safe for
 * concurrent {@link #forward} calls.
 */
public final class SD3Transformer2DModel extends PretrainedModel<SD3TransformerConfig> {
    final PatchEmbed posEmbed;
    final CombinedTimestepTextProjEmbeddings timeTextEmbed;
    final Linear contextEmbedder;
    final List<JointTransformerBlock> transformerBlocks = new ArrayList<>();
    final AdaLayerNormContinuous normOut;
    final Linear projOut;

    /**
     * Loads {@code config.json} and the safetensors weights of a {@code transformer} folder into a
     * sub-manager of {@code manager}, converted to {@code dtype}.
     *
     * @throws sdbatch.pipeline.weights.ModelLoadException for a bad config, or one error listing
     *     every missing, unexpected and misshapen tensor
     * @throws IOException if a file cannot be read
     */
    public static SD3Transformer2DModel load(Path dir, NDManager manager, DataType dtype)
            throws IOException {
        return ModelParameters.load(
                dir, manager, dtype, SD3TransformerConfig::load, SD3Transformer2DModel::new);
    }

    /** Builds the transformer from its config, asking {@code weights} for every parameter. */
    // Port of diffusers transformer_sd3.SD3Transformer2DModel.__init__
    public SD3Transformer2DModel(SD3TransformerConfig config, Weights weights) {
        super(config);
        Weights w = parameters.record(weights);
        int inner = config.innerDim();
        this.posEmbed =
                new PatchEmbed(
                        w.prefix("pos_embed"),
                        config.patchSize(),
                        config.inChannels(),
                        inner,
                        config.posEmbedMaxSize());
        this.timeTextEmbed =
                new CombinedTimestepTextProjEmbeddings(
                        w.prefix("time_text_embed"), inner, config.pooledProjectionDim());
        this.contextEmbedder =
                new Linear(
                        w.prefix("context_embedder"),
                        config.jointAttentionDim(),
                        config.captionProjectionDim(),
                        true);
        for (int i = 0; i < config.numLayers(); i++) {
            transformerBlocks.add(
                    new JointTransformerBlock(w.prefix("transformer_blocks", i), config, i));
        }
        this.normOut = new AdaLayerNormContinuous(w.prefix("norm_out"), inner, inner);
        int p = config.patchSize();
        this.projOut = new Linear(w.prefix("proj_out"), inner, p * p * config.outChannels(), true);
    }

    /** The parameters by state-dict key. */
    public LiveParameters liveParameters() {
        return parameters.live("transformer");
    }

    /**
     * The velocity for {@code hiddenStates} [B, C, H, W] at {@code timestep} (a scalar or [B] or
     * [1], in units of the scheduler's timesteps), given the prompt embeddings [B, M,
     * joint_attention_dim] and the pooled text embeddings [B, pooled_projection_dim].
     *
     * @return [B, out_channels, H, W]
     */
    // Port of diffusers transformer_sd3.SD3Transformer2DModel.forward
    public NDArray forward(
            NDArray hiddenStates,
            NDArray timestep,
            NDArray encoderHiddenStates,
            NDArray pooledProjections) {
        Shape in = hiddenStates.getShape();
        if (in.dimension() != 4 || in.get(1) != config.inChannels()) {
            throw new IllegalArgumentException(
                    "hidden_states must be [B, " + config.inChannels() + ", H, W], got " + in);
        }
        int p = config.patchSize();
        if (in.get(2) % p != 0 || in.get(3) % p != 0) {
            throw new IllegalArgumentException(
                    "latent size "
                            + in.get(2)
                            + " x "
                            + in.get(3)
                            + " is not a multiple of patch_size "
                            + p);
        }
        return InnerScope.keep(
                () -> {
                    NDArray x = toModel(hiddenStates);
                    // takes care of adding positional embeddings too
                    NDArray h = posEmbed.forward(x);
                    NDArray t =
                            timestep.getShape().dimension() == 0 ? timestep.reshape(1) : timestep;
                    NDArray temb = timeTextEmbed.forward(t, toModel(pooledProjections));
                    NDArray context = contextEmbedder.forward(toModel(encoderHiddenStates));
                    for (JointTransformerBlock block : transformerBlocks) {
                        JointTransformerBlock.Output o = block.forward(h, context, temb);
                        h = o.hidden();
                        context = o.context();
                    }
                    h = projOut.forward(normOut.forward(h, temb));
                    // unpatchify: [N, h, w, p, q, c] -> "nhwpqc->nchpwq" -> [N, c, h·p, w·q]
                    long height = in.get(2) / p;
                    long width = in.get(3) / p;
                    int c = config.outChannels();
                    return h.reshape(in.get(0), height, width, p, p, c)
                            .transpose(0, 5, 1, 3, 2, 4)
                            .reshape(in.get(0), c, height * p, width * p);
                });
    }
}
