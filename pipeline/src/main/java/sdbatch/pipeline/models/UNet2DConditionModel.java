package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.blocks.TimestepEmbedding;
import sdbatch.pipeline.models.blocks.Timesteps;
import sdbatch.pipeline.models.blocks.UNetDownBlock;
import sdbatch.pipeline.models.blocks.UNetMidBlock2DCrossAttn;
import sdbatch.pipeline.models.blocks.UNetUpBlock;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.GroupNorm;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code UNet2DConditionModel} (models/unets/unet_2d_condition.py) for Stable Diffusion
 * 1.x/2.x and SDXL: predicts the noise (or v) of latents at a timestep, conditioned on text
 * embeddings and, for SDXL ({@code addition_embed_type} {@code text_time}), on a pooled text
 * embedding and micro-conditioning time ids added to the time embedding.
 *
 * <p>Fields mirror the checkpoint: {@code time_embedding}, {@code add_embedding} (SDXL), {@code
 * conv_in}, {@code down_blocks}, {@code mid_block}, {@code up_blocks}, {@code conv_norm_out},
 * {@code conv_out}. The weights are in the compute dtype given at load and live until {@link
 * #close()}. A forward pass frees its temporaries before returning, so native memory stays flat
 * over any number of calls; calls share no mutable state.
 */
public final class UNet2DConditionModel extends PretrainedModel<UNetConfig> {

    final Timesteps timeProj;
    final TimestepEmbedding timeEmbedding;
    // SDXL's text_time conditioning; null otherwise.
    final Timesteps addTimeProj;
    final TimestepEmbedding addEmbedding;
    final Conv2d convIn;
    final List<UNetDownBlock> downBlocks = new ArrayList<>();
    final UNetMidBlock2DCrossAttn midBlock;
    final List<UNetUpBlock> upBlocks = new ArrayList<>();
    final GroupNorm convNormOut;
    final Conv2d convOut;
    private final int numUpsamplers;

    /**
     * Loads {@code <dir>/config.json} and the safetensors weights into a sub-manager of {@code
     * manager} (its device), converted to {@code dtype}.
     *
     * @throws sdbatch.pipeline.weights.ModelLoadException for a missing folder, pickle-only
     *     weights, a bad config, or missing, unexpected or misshapen tensors (listed together)
     * @throws IOException if a file cannot be read
     */
    public static UNet2DConditionModel load(Path dir, NDManager manager, DataType dtype)
            throws IOException {
        return ModelParameters.load(
                dir, manager, dtype, UNetConfig::load, UNet2DConditionModel::new);
    }

    /**
     * The UNet's parameters by state-dict key: what a LoRA merge changes in place (and restores
     * from the folder).
     */
    public LiveParameters liveParameters() {
        return parameters.live("unet");
    }

    /**
     * Builds the model from its config, asking {@code weights} for every parameter by its
     * state-dict key. The model closes the arrays it received in {@link #close()}.
     */
    // Port of diffusers unet_2d_condition.UNet2DConditionModel.__init__
    public UNet2DConditionModel(UNetConfig config, Weights weights) {
        super(config);
        Weights w = parameters.record(weights);
        List<Integer> ch = config.blockOutChannels();
        int groups = config.normNumGroups();
        double eps = config.normEps();

        // input, time, down and mid: the input half a ControlNet shares (UNetDownPath)
        this.convIn = UNetDownPath.convIn(w, config);
        this.timeProj = UNetDownPath.timeProj(config);
        this.timeEmbedding = UNetDownPath.timeEmbedding(w, config);
        if (config.hasTextTimeEmbedding()) {
            this.addTimeProj =
                    new Timesteps(
                            config.additionTimeEmbedDim(),
                            config.flipSinToCos(),
                            config.freqShift());
            this.addEmbedding =
                    new TimestepEmbedding(
                            w.prefix("add_embedding"),
                            config.projectionClassEmbeddingsInputDim(),
                            config.timeEmbedDim());
        } else {
            this.addTimeProj = null;
            this.addEmbedding = null;
        }
        this.downBlocks.addAll(UNetDownPath.downBlocks(w, config));
        this.midBlock = UNetDownPath.midBlock(w, config);
        // up: the output half (UNetUpPath); every block but the last upsamples
        this.upBlocks.addAll(UNetUpPath.upBlocks(w, config));
        this.numUpsamplers = upBlocks.size() - 1;

        // out
        this.convNormOut = new GroupNorm(w.prefix("conv_norm_out"), groups, ch.get(0), eps);
        this.convOut =
                Conv2d.same(
                        w.prefix("conv_out"),
                        ch.get(0),
                        config.outChannels(),
                        config.convOutKernel());
    }

    /**
     * One denoising prediction.
     *
     * @param sample noisy latents [B, in_channels, H, W]
     * @param timestep the timestep(s): a scalar or [1] (applied to every row) or [B], of any
     *     numeric type (fractional timesteps are allowed)
     * @param encoderHiddenStates text embeddings [B, L, cross_attention_dim]
     * @return [B, out_channels, H, W] in the model's dtype and on its device, owned by {@code
     *     sample}'s manager (or the caller's enclosing {@link ai.djl.ndarray.NDScope})
     * @throws IllegalArgumentException naming the argument and its shape when shapes disagree
     */
    public NDArray forward(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {
        return forward(sample, timestep, encoderHiddenStates, null, null);
    }

    /**
     * One denoising prediction with a ControlNet's residuals added to the skip connections and to
     * the mid block's output (diffusers' {@code down_block_additional_residuals} and {@code
     * mid_block_additional_residual}); null runs the plain UNet.
     *
     * @throws IllegalArgumentException when the residuals do not match the skip connections
     */
    public NDArray forward(
            NDArray sample,
            NDArray timestep,
            NDArray encoderHiddenStates,
            ControlNetOutput additionalResiduals) {
        return forward(sample, timestep, encoderHiddenStates, null, additionalResiduals);
    }

    /**
     * One denoising prediction with diffusers' {@code added_cond_kwargs} (required by, and only
     * taken by, an SDXL UNet: {@code addition_embed_type} {@code text_time}) and optional
     * ControlNet residuals.
     *
     * @param added the pooled text embeddings and time ids, one row per sample row; null for a UNet
     *     without added conditioning
     * @throws IllegalArgumentException when {@code added} is missing, not wanted or misshapen
     */
    // Port of diffusers unet_2d_condition.UNet2DConditionModel.forward
    public NDArray forward(
            NDArray sample,
            NDArray timestep,
            NDArray encoderHiddenStates,
            AddedConditions added,
            ControlNetOutput additionalResiduals) {
        checkInputs(sample, timestep, encoderHiddenStates);
        checkAdded(added, sample.getShape().get(0));
        return InnerScope.keep(
                () -> {
                    NDArray x = toModel(sample);
                    NDArray ehs = toModel(encoderHiddenStates);
                    long batch = x.getShape().get(0);

                    // By default samples have to be at least a multiple of the overall upsampling
                    // factor; otherwise the upsamplers are told the size of each skip connection.
                    long factor = 1L << numUpsamplers;
                    boolean forwardUpsampleSize =
                            x.getShape().get(2) % factor != 0 || x.getShape().get(3) % factor != 0;

                    // 0. center input if necessary
                    if (config.centerInputSample()) {
                        x = x.mul(2).sub(1);
                    }

                    // 1. time
                    NDArray timeEmb =
                            UNetDownPath.embedTimesteps(
                                    timestep, batch, timeProj, timeEmbedding, device(), dtype());
                    NDArray emb = addEmbedding == null ? timeEmb : timeEmb.add(augEmbedding(added));

                    // 2. pre-process
                    x = convIn.forward(x);

                    // 3. down
                    List<NDArray> downBlockResSamples = new ArrayList<>();
                    x = UNetDownPath.down(downBlocks, x, emb, ehs, downBlockResSamples);
                    if (additionalResiduals != null) {
                        downBlockResSamples =
                                addResiduals(
                                        downBlockResSamples,
                                        additionalResiduals.downBlockResSamples());
                    }

                    // 4. mid
                    if (midBlock != null) {
                        x = midBlock.forward(x, emb, ehs);
                    }
                    if (additionalResiduals != null) {
                        x = x.add(toModel(additionalResiduals.midBlockResSample()));
                    }

                    // 5. up
                    x =
                            UNetUpPath.up(
                                    upBlocks,
                                    x,
                                    downBlockResSamples,
                                    emb,
                                    ehs,
                                    forwardUpsampleSize);

                    // 6. post-process
                    x = convNormOut.forwardSilu(x);
                    return convOut.forward(x);
                });
    }

    /**
     * diffusers' {@code get_aug_embed} for {@code text_time}: each time id embedded sinusoidally
     * (float32) to {@code addition_time_embed_dim}, the six flattened per row after the pooled text
     * embedding, through {@code add_embedding}.
     */
    // Port of diffusers unet_2d_condition.UNet2DConditionModel.get_aug_embed (text_time)
    private NDArray augEmbedding(AddedConditions added) {
        NDArray textEmbeds = toModel(added.textEmbeds());
        long rows = textEmbeds.getShape().get(0);
        NDArray timeIds = added.timeIds().toDevice(device(), false).flatten();
        NDArray timeEmbeds = addTimeProj.forward(timeIds).reshape(rows, -1);
        NDArray addEmbeds = textEmbeds.concat(timeEmbeds.toType(dtype(), false), -1);
        return addEmbedding.forward(addEmbeds);
    }

    private void checkAdded(AddedConditions added, long batch) {
        if (addEmbedding == null) {
            if (added != null) {
                throw new IllegalArgumentException(
                        "added_cond_kwargs were given to a UNet without addition_embed_type"
                                + " text_time");
            }
            return;
        }
        if (added == null || added.textEmbeds() == null || added.timeIds() == null) {
            throw new IllegalArgumentException(
                    "this UNet has addition_embed_type text_time: it needs text_embeds and"
                            + " time_ids in added_cond_kwargs");
        }
        Shape te = added.textEmbeds().getShape();
        if (te.dimension() != 2 || te.get(0) != batch || te.get(1) != config.addedTextEmbedDim()) {
            throw new IllegalArgumentException(
                    "text_embeds must be ["
                            + batch
                            + ", "
                            + config.addedTextEmbedDim()
                            + "] (projection_class_embeddings_input_dim - 6 ×"
                            + " addition_time_embed_dim), got "
                            + te);
        }
        Shape ti = added.timeIds().getShape();
        if (ti.dimension() != 2 || ti.get(0) != batch || ti.get(1) != 6) {
            throw new IllegalArgumentException("time_ids must be [" + batch + ", 6], got " + ti);
        }
    }

    /** diffusers' {@code is_controlnet} branch: each skip connection plus its residual. */
    private List<NDArray> addResiduals(List<NDArray> resSamples, List<NDArray> residuals) {
        if (residuals.size() != resSamples.size()) {
            throw new IllegalArgumentException(
                    "down_block_additional_residuals has "
                            + residuals.size()
                            + " entries, the UNet has "
                            + resSamples.size()
                            + " skip connections");
        }
        List<NDArray> out = new ArrayList<>(resSamples.size());
        for (int i = 0; i < resSamples.size(); i++) {
            NDArray r = residuals.get(i);
            if (!r.getShape().equals(resSamples.get(i).getShape())) {
                throw new IllegalArgumentException(
                        "down_block_additional_residuals["
                                + i
                                + "] is "
                                + r.getShape()
                                + ", the skip connection is "
                                + resSamples.get(i).getShape());
            }
            out.add(resSamples.get(i).add(toModel(r)));
        }
        return out;
    }

    private void checkInputs(NDArray sample, NDArray timestep, NDArray ehs) {
        Shape s = sample.getShape();
        UNetDownPath.checkSampleAndText(
                s, ehs.getShape(), config.inChannels(), config.crossAttentionDim());
        Shape t = timestep.getShape();
        boolean ok =
                t.dimension() == 0
                        || (t.dimension() == 1 && (t.get(0) == 1 || t.get(0) == s.get(0)));
        if (!ok) {
            throw new IllegalArgumentException(
                    "timestep must be a scalar, [1] or [" + s.get(0) + "], got " + t);
        }
    }
}
