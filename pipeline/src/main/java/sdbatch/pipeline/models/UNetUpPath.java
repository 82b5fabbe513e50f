package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.blocks.CrossAttnUpBlock2D;
import sdbatch.pipeline.models.blocks.ResnetBlock2D;
import sdbatch.pipeline.models.blocks.UNetUpBlock;
import sdbatch.pipeline.models.blocks.UpBlock2D;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * The output half of {@code UNet2DConditionModel}: {@code up_blocks}, each mirroring a down level
 * and consuming that level's skip connections, built and run as diffusers does. The UNet keeps the
 * blocks as its own field (a field path is its state-dict key); this class builds and runs them, as
 * {@link UNetDownPath} does the input half.
 */
final class UNetUpPath {
    private UNetUpPath() {}

    /**
     * {@code up_blocks.i}, as diffusers' {@code get_up_block} builds them; every block but the last
     * ends with an upsampler.
     */
    // Port of the up-block loop of diffusers UNet2DConditionModel.__init__
    static List<UNetUpBlock> upBlocks(Weights w, UNetConfig config) {
        List<Integer> ch = config.blockOutChannels();
        int n = ch.size();
        // Every resnet of the up blocks shares these (the mid block has its own scale).
        ResnetBlock2D.Settings resnet = UNetDownPath.resnet(config);
        List<UNetUpBlock> blocks = new ArrayList<>(n);
        int out = ch.get(n - 1);
        for (int i = 0; i < n; i++) {
            int r = n - 1 - i; // the down level this up block mirrors
            boolean isFinal = i == n - 1;
            int prev = out;
            out = ch.get(r);
            int in = ch.get(Math.max(r - 1, 0));
            Weights bw = w.prefix("up_blocks", i);
            UNetUpBlock.Args args =
                    new UNetUpBlock.Args(
                            config.layersPerBlock().get(r) + 1, in, out, prev, !isFinal, resnet);
            blocks.add(
                    "CrossAttnUpBlock2D".equals(config.upBlockTypes().get(i))
                            ? new CrossAttnUpBlock2D(bw, args, UNetDownPath.attention(config, r))
                            : new UpBlock2D(bw, args));
        }
        return blocks;
    }

    /**
     * Step 5 of the forward pass: runs the up blocks from {@code x} (the mid block's output), each
     * on the last of {@code downBlockResSamples} (diffusers' {@code down_block_res_samples}).
     *
     * @param forwardUpsampleSize whether the upsamplers are told the size of the next skip
     *     connection (a sample that is not a multiple of the overall upsampling factor) instead of
     *     doubling
     */
    static NDArray up(
            List<UNetUpBlock> blocks,
            NDArray x,
            List<NDArray> downBlockResSamples,
            NDArray emb,
            NDArray encoderHiddenStates,
            boolean forwardUpsampleSize) {
        List<NDArray> remaining = downBlockResSamples;
        NDArray h = x;
        for (int i = 0; i < blocks.size(); i++) {
            UNetUpBlock block = blocks.get(i);
            boolean isFinal = i == blocks.size() - 1;
            int k = block.numResnets();
            int end = remaining.size();
            List<NDArray> resSamples = new ArrayList<>(remaining.subList(end - k, end));
            remaining = new ArrayList<>(remaining.subList(0, end - k));
            long[] upsampleSize = null;
            if (!isFinal && forwardUpsampleSize) {
                Shape s = remaining.get(remaining.size() - 1).getShape();
                upsampleSize = new long[] {s.get(2), s.get(3)};
            }
            NDArray in = h;
            long[] size = upsampleSize;
            h =
                    InnerScope.keep(
                            () -> block.forward(in, resSamples, emb, encoderHiddenStates, size));
        }
        return h;
    }
}
