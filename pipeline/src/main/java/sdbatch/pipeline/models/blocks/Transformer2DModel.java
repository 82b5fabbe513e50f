package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.models.kernels.Bf16Fused;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.GroupNorm;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code Transformer2DModel} for continuous input (models/transformers/
 * transformer_2d.py): GroupNorm, {@code proj_in} (a 1×1 convolution, or a linear layer with {@code
 * use_linear_projection}), {@code transformer_blocks}, {@code proj_out}, plus the input.
 */
public final class Transformer2DModel {
    /** The GroupNorm epsilon diffusers hard-codes for this block. */
    public static final double NORM_EPS = 1e-6;

    /**
     * What every Transformer2DModel of one UNet block shares: {@code num_attention_heads}, {@code
     * transformer_layers_per_block}, {@code cross_attention_dim}, the group norm's groups ({@code
     * resnet_groups}), {@code use_linear_projection} and {@code upcast_attention}.
     */
    public record Settings(
            int numHeads,
            int layers,
            int crossAttentionDim,
            int normNumGroups,
            boolean useLinearProjection,
            boolean upcastAttention) {
        /** A model over {@code channels} channels ({@code channels / numHeads} per head). */
        Transformer2DModel build(Weights w, int channels) {
            return new Transformer2DModel(
                    w,
                    numHeads,
                    channels / numHeads,
                    channels,
                    layers,
                    crossAttentionDim,
                    normNumGroups,
                    useLinearProjection,
                    upcastAttention);
        }
    }

    /**
     * {@code proj_in} or {@code proj_out}: a linear layer on the tokens with {@code
     * use_linear_projection}, else a 1×1 convolution (the other one is null).
     */
    record Projection(Conv2d conv, Linear linear) {
        static Projection of(Weights w, boolean useLinear, int in, int out) {
            return useLinear
                    ? new Projection(null, new Linear(w, in, out, true))
                    : new Projection(new Conv2d(w, in, out, 1, 1, 0), null);
        }

        /** Prepacked bfloat16 weights of the layer as a linear layer on {@code rows} tokens. */
        Bf16Compute.Packed pack(long rows) {
            return conv != null
                    ? Bf16Fused.packPointwiseAsLinear(conv.weight(), conv.bias(), rows)
                    : Bf16Compute.packLinear(linear.weight(), linear.bias(), rows);
        }
    }

    final GroupNorm norm;
    final Projection projIn;
    final List<BasicTransformerBlock> transformerBlocks = new ArrayList<>();
    final Projection projOut;
    private final int innerDim;
    // proj_in and proj_out as prepacked bfloat16 linear layers on the tokens, for Bf16Fused's
    // single call (made on first use).
    final Bf16Compute.Slot projInBf16;
    final Bf16Compute.Slot projOutBf16;

    public Transformer2DModel(
            Weights w,
            int heads,
            int dimHead,
            int inChannels,
            int numLayers,
            int crossAttentionDim,
            int normNumGroups,
            boolean useLinearProjection,
            boolean upcastAttention) {
        this.innerDim = heads * dimHead;
        this.projInBf16 = w.derived(new Bf16Compute.Slot());
        this.projOutBf16 = w.derived(new Bf16Compute.Slot());
        this.norm = new GroupNorm(w.prefix("norm"), normNumGroups, inChannels, NORM_EPS);
        this.projIn = Projection.of(w.prefix("proj_in"), useLinearProjection, inChannels, innerDim);
        for (int d = 0; d < numLayers; d++) {
            transformerBlocks.add(
                    new BasicTransformerBlock(
                            w.prefix("transformer_blocks", d),
                            innerDim,
                            heads,
                            dimHead,
                            crossAttentionDim,
                            upcastAttention));
        }
        this.projOut =
                Projection.of(w.prefix("proj_out"), useLinearProjection, innerDim, inChannels);
    }

    // Port of diffusers transformer_2d.Transformer2DModel.forward (continuous input)
    public NDArray forward(NDArray x, NDArray encoderHiddenStates) {
        NDArray fused = fusedBf16(x, encoderHiddenStates);
        if (fused != null) {
            return fused;
        }
        return InnerScope.keep(
                () -> {
                    Shape s = x.getShape();
                    long b = s.get(0);
                    long height = s.get(2);
                    long width = s.get(3);
                    // 1. Input
                    NDArray h = norm.forward(x);
                    if (projIn.conv() != null) {
                        h = projIn.conv().forward(h);
                        h = h.transpose(0, 2, 3, 1).reshape(b, height * width, innerDim);
                    } else {
                        h = h.transpose(0, 2, 3, 1).reshape(b, height * width, s.get(1));
                        h = projIn.linear().forward(h);
                    }
                    // 2. Blocks
                    for (BasicTransformerBlock block : transformerBlocks) {
                        h = block.forward(h, encoderHiddenStates);
                    }
                    // 3. Output
                    if (projOut.conv() != null) {
                        h = h.reshape(b, height, width, innerDim).transpose(0, 3, 1, 2);
                        h = projOut.conv().forward(h);
                    } else {
                        h = projOut.linear().forward(h);
                        h = h.reshape(b, height, width, s.get(1)).transpose(0, 3, 1, 2);
                    }
                    return h.add(x);
                });
    }

    /**
     * The whole model — group norm, {@code proj_in}, its one transformer block, {@code proj_out}
     * and the residual — in one bfloat16 call ({@link Bf16Fused}), or null where that path does not
     * apply (then the layers run one by one, each block still as one call where it can).
     */
    private NDArray fusedBf16(NDArray x, NDArray encoderHiddenStates) {
        Shape s = x.getShape();
        if (transformerBlocks.size() != 1 || s.dimension() != 4 || !Bf16Fused.usable(x)) {
            return null;
        }
        long tokens = s.get(2) * s.get(3);
        long rows = s.get(0) * tokens;
        Object[] args =
                Bf16Fused.concat(
                        Bf16Fused.transformerArgs(
                                norm,
                                projInBf16.get(x, () -> projIn.pack(rows)),
                                projOutBf16.get(x, () -> projOut.pack(rows))),
                        transformerBlocks.get(0).bf16Args(x, rows, tokens, encoderHiddenStates));
        return args == null ? null : Bf16Fused.call("transformer_2d", args, x, encoderHiddenStates);
    }
}
