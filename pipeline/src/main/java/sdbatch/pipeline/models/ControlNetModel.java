package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.ControlNetConfig;
import sdbatch.pipeline.models.blocks.ControlNetConditioningEmbedding;
import sdbatch.pipeline.models.blocks.TimestepEmbedding;
import sdbatch.pipeline.models.blocks.Timesteps;
import sdbatch.pipeline.models.blocks.UNetDownBlock;
import sdbatch.pipeline.models.blocks.UNetMidBlock2DCrossAttn;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code ControlNetModel} (models/controlnets/controlnet.py): a copy of a UNet's input
 * half that also sees a control picture, and whose skip connections and mid-block output, through
 * zero-initialised 1×1 convolutions and scaled, are added to the UNet's ({@link ControlNetOutput}).
 *
 * <p>Fields mirror the checkpoint: {@code conv_in}, {@code time_proj} / {@code time_embedding},
 * {@code controlnet_cond_embedding}, {@code down_blocks}, {@code controlnet_down_blocks}, {@code
 * mid_block}, {@code controlnet_mid_block}. The input half is built and run by the same code as the
 * UNet's ({@link UNetDownPath}). Weights live until {@link #close()}; a forward pass frees its
 * temporaries before returning.
 */
public final class ControlNetModel extends PretrainedModel<ControlNetConfig> {

    final Conv2d convIn;
    final Timesteps timeProj;
    final TimestepEmbedding timeEmbedding;
    final ControlNetConditioningEmbedding controlnetCondEmbedding;
    final List<UNetDownBlock> downBlocks = new ArrayList<>();
    final List<Conv2d> controlnetDownBlocks = new ArrayList<>();
    final UNetMidBlock2DCrossAttn midBlock;
    final Conv2d controlnetMidBlock;

    /**
     * Loads {@code <dir>/config.json} and {@code diffusion_pytorch_model.safetensors} into a
     * sub-manager of {@code manager} (its device), converted to {@code dtype}.
     *
     * @throws sdbatch.pipeline.weights.ModelLoadException for a missing folder, a bad config, or
     *     missing, unexpected or misshapen tensors (listed together)
     * @throws IOException if a file cannot be read
     */
    public static ControlNetModel load(Path dir, NDManager manager, DataType dtype)
            throws IOException {
        return ModelParameters.load(
                dir, manager, dtype, ControlNetConfig::load, ControlNetModel::new);
    }

    /** Builds the model from its config, asking {@code weights} for every state-dict key. */
    // Port of diffusers controlnet.ControlNetModel.__init__
    public ControlNetModel(ControlNetConfig config, Weights weights) {
        super(config);
        Weights w = parameters.record(weights);
        List<Integer> ch = config.blockOutChannels();
        int n = ch.size();

        // input and time
        this.convIn = UNetDownPath.convIn(w, config);
        this.timeProj = UNetDownPath.timeProj(config);
        this.timeEmbedding = UNetDownPath.timeEmbedding(w, config);

        // control net conditioning embedding
        this.controlnetCondEmbedding =
                new ControlNetConditioningEmbedding(
                        w.prefix("controlnet_cond_embedding"),
                        ch.get(0),
                        config.conditioningChannels(),
                        config.conditioningEmbeddingOutChannels());

        // down, and a zero convolution per skip connection it makes
        this.downBlocks.addAll(UNetDownPath.downBlocks(w, config));
        Weights zero = w.prefix("controlnet_down_blocks");
        controlnetDownBlocks.add(zeroConv(zero, 0, ch.get(0)));
        for (int i = 0; i < n; i++) {
            int states = config.layersPerBlock().get(i) + (i == n - 1 ? 0 : 1);
            for (int k = 0; k < states; k++) {
                controlnetDownBlocks.add(zeroConv(zero, controlnetDownBlocks.size(), ch.get(i)));
            }
        }

        // mid
        this.controlnetMidBlock =
                Conv2d.same(w.prefix("controlnet_mid_block"), ch.get(n - 1), ch.get(n - 1), 1);
        this.midBlock = UNetDownPath.midBlock(w, config);
    }

    /** {@code controlnet_down_blocks.index}: a 1×1 convolution keeping {@code channels}. */
    private static Conv2d zeroConv(Weights w, int index, int channels) {
        return Conv2d.same(w.prefix(Integer.toString(index)), channels, channels, 1);
    }

    /**
     * How many pixels of the control picture make one latent: 2^(strided convolutions of the
     * conditioning embedding), which must equal the VAE's scale factor of the pipeline it serves.
     */
    public int conditioningScaleFactor() {
        return 1 << controlnetCondEmbedding.downsamplings();
    }

    /**
     * The residuals for a UNet at one step (guess mode is not implemented: every residual is scaled
     * by the same {@code conditioning_scale}).
     *
     * @param sample the UNet's (scheduler-scaled) latents [B, in_channels, H, W]
     * @param timestep a scalar, [1] or [B]
     * @param encoderHiddenStates text embeddings [B, L, cross_attention_dim]
     * @param controlnetCond the control pictures [B, conditioning_channels, H·f, W·f] in [0, 1], f
     *     = {@link #conditioningScaleFactor()}, channels in RGB order
     * @param conditioningScale {@code conditioning_scale} per row, float32 [B] (or a scalar)
     * @return the scaled residuals, in the model's dtype, owned by the caller's scope
     * @throws IllegalArgumentException naming the argument and its shape when shapes disagree
     */
    // Port of diffusers controlnet.ControlNetModel.forward (guess_mode False, no class labels,
    // no attention mask)
    public ControlNetOutput forward(
            NDArray sample,
            NDArray timestep,
            NDArray encoderHiddenStates,
            NDArray controlnetCond,
            NDArray conditioningScale) {
        checkInputs(sample, encoderHiddenStates, controlnetCond);
        NDList out =
                InnerScope.keepAll(
                        () -> {
                            NDArray x = toModel(sample);
                            NDArray ehs = toModel(encoderHiddenStates);
                            NDArray cond = toModel(controlnetCond);
                            // check channel order
                            if (config.bgrConditioning()) {
                                cond = cond.flip(1);
                            }
                            long batch = x.getShape().get(0);

                            // 1. time
                            NDArray emb =
                                    UNetDownPath.embedTimesteps(
                                            timestep,
                                            batch,
                                            timeProj,
                                            timeEmbedding,
                                            device(),
                                            dtype());

                            // 2. pre-process
                            x = convIn.forward(x).add(controlnetCondEmbedding.forward(cond));

                            // 3. down
                            List<NDArray> downBlockResSamples = new ArrayList<>();
                            x = UNetDownPath.down(downBlocks, x, emb, ehs, downBlockResSamples);

                            // 4. mid
                            x = midBlock.forward(x, emb, ehs);

                            // 5. Control net blocks, 6. scaling: residual * conditioning_scale,
                            // which torch computes in float32 for half-precision residuals.
                            NDArray scale =
                                    conditioningScale
                                            .toDevice(device(), false)
                                            .toType(DataType.FLOAT32, false)
                                            .reshape(-1, 1, 1, 1);
                            NDList residuals = new NDList();
                            for (int i = 0; i < downBlockResSamples.size(); i++) {
                                NDArray r =
                                        controlnetDownBlocks
                                                .get(i)
                                                .forward(downBlockResSamples.get(i));
                                residuals.add(scaled(r, scale));
                            }
                            residuals.add(scaled(controlnetMidBlock.forward(x), scale));
                            return residuals;
                        });
        List<NDArray> down = new ArrayList<>(out.subList(0, out.size() - 1));
        return new ControlNetOutput(down, out.get(out.size() - 1));
    }

    private NDArray scaled(NDArray residual, NDArray scale) {
        return residual.toType(DataType.FLOAT32, false).mul(scale).toType(dtype(), false);
    }

    private void checkInputs(NDArray sample, NDArray ehs, NDArray cond) {
        Shape s = sample.getShape();
        UNetDownPath.checkSampleAndText(
                s, ehs.getShape(), config.inChannels(), config.crossAttentionDim());
        int f = conditioningScaleFactor();
        Shape expected =
                new Shape(s.get(0), config.conditioningChannels(), s.get(2) * f, s.get(3) * f);
        if (!cond.getShape().equals(expected)) {
            throw new IllegalArgumentException(
                    "controlnetCond must be "
                            + expected
                            + " for sample "
                            + s
                            + " (the conditioning embedding halves the size "
                            + controlnetCondEmbedding.downsamplings()
                            + " times), got "
                            + cond.getShape());
        }
    }
}
