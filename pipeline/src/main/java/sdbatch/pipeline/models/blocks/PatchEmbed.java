package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code PatchEmbed} (models/embeddings.py) as SD3 configures it: a {@code proj}
 * convolution with kernel and stride {@code patch_size} turns [B, C, H, W] latents into [B,
 * H/p·W/p, D] tokens, plus the centre crop of the stored 2-D sin-cos table {@code pos_embed} [1,
 * M², D] ({@code pos_embed_max_size} M per side; {@code cropped_pos_embed}), so that any latent
 * size up to M patches per side gets the positions it was trained with around the centre.
 */
public final class PatchEmbed {
    final Conv2d proj;
    final NDArray posEmbed;
    private final int patchSize;
    private final int maxSize;
    private final int dim;

    public PatchEmbed(Weights w, int patchSize, int inChannels, int dim, int posEmbedMaxSize) {
        this.patchSize = patchSize;
        this.maxSize = posEmbedMaxSize;
        this.dim = dim;
        this.proj = new Conv2d(w.prefix("proj"), inChannels, dim, patchSize, patchSize, 0);
        this.posEmbed =
                w.get("pos_embed", new Shape(1, (long) posEmbedMaxSize * posEmbedMaxSize, dim));
    }

    // Port of diffusers embeddings.PatchEmbed.forward (pos_embed_max_size set, no layer norm)
    public NDArray forward(NDArray latent) {
        Shape s = latent.getShape();
        NDArray x = proj.forward(latent);
        Shape p = x.getShape();
        // BCHW -> BNC
        x = x.reshape(p.get(0), p.get(1), p.get(2) * p.get(3)).transpose(0, 2, 1);
        NDArray pos = croppedPosEmbed(s.get(2), s.get(3));
        return x.add(pos.toType(x.getDataType(), false));
    }

    // Port of diffusers embeddings.PatchEmbed.cropped_pos_embed
    private NDArray croppedPosEmbed(long height, long width) {
        long h = height / patchSize;
        long w = width / patchSize;
        if (h > maxSize || w > maxSize) {
            throw new IllegalArgumentException(
                    "latents of "
                            + h
                            + " x "
                            + w
                            + " patches exceed pos_embed_max_size "
                            + maxSize
                            + " (image too large for this transformer)");
        }
        long top = (maxSize - h) / 2;
        long left = (maxSize - w) / 2;
        return posEmbed.reshape(1, maxSize, maxSize, dim)
                .get(new NDIndex(":, {}:{}, {}:{}, :", top, top + h, left, left + w))
                .reshape(1, h * w, dim);
    }
}
