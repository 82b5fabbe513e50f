package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.blocks.Decoder;
import sdbatch.pipeline.models.blocks.Encoder;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code AutoencoderKL} (models/autoencoders/autoencoder_kl.py): the VAE that maps
 * images to latents ({@link #encode}) and back ({@link #decode}).
 *
 * <p>Fields mirror the checkpoint: {@code encoder}, {@code decoder}, {@code quant_conv}, {@code
 * post_quant_conv}. Neither method applies {@code scaling_factor}: as in diffusers, the pipeline
 * divides latents by it before {@link #decode} and multiplies after {@link #encode}.
 */
public final class AutoencoderKL extends PretrainedModel<VaeConfig> {

    final Encoder encoder;
    final Decoder decoder;
    final Conv2d quantConv;
    final Conv2d postQuantConv;

    /**
     * The encoder's diagonal Gaussian over latents ({@code DiagonalGaussianDistribution}): {@code
     * mean} and {@code std}, each [B, latent_channels, H/f, W/f]. Closing it closes both.
     */
    public record LatentDist(NDArray mean, NDArray std) implements AutoCloseable {
        @Override
        public void close() {
            mean.close();
            std.close();
        }
    }

    /**
     * Loads {@code <dir>/config.json} and the safetensors weights into a sub-manager of {@code
     * manager} (its device), converted to {@code dtype}.
     *
     * @throws sdbatch.pipeline.weights.ModelLoadException for a missing folder, pickle-only
     *     weights, a bad config, or missing, unexpected or misshapen tensors (listed together)
     * @throws IOException if a file cannot be read
     */
    public static AutoencoderKL load(Path dir, NDManager manager, DataType dtype)
            throws IOException {
        return ModelParameters.load(dir, manager, dtype, VaeConfig::load, AutoencoderKL::new);
    }

    /** Builds the VAE from its config, asking {@code weights} for every parameter by key. */
    // Port of diffusers autoencoder_kl.AutoencoderKL.__init__
    public AutoencoderKL(VaeConfig config, Weights weights) {
        super(config);
        Weights w = parameters.record(weights);
        int latent = config.latentChannels();
        this.encoder = new Encoder(w.prefix("encoder"), config);
        this.decoder = new Decoder(w.prefix("decoder"), config);
        this.quantConv =
                config.useQuantConv()
                        ? new Conv2d(w.prefix("quant_conv"), 2 * latent, 2 * latent, 1, 1, 0)
                        : null;
        this.postQuantConv =
                config.usePostQuantConv()
                        ? new Conv2d(w.prefix("post_quant_conv"), latent, latent, 1, 1, 0)
                        : null;
    }

    /**
     * Decodes latents (already divided by {@code scaling_factor}) to images in about [-1, 1].
     *
     * @param latents [B, latent_channels, h, w]
     * @return [B, out_channels, h·f, w·f] with f = {@link VaeConfig#vaeScaleFactor()}, in the
     *     model's dtype, owned by {@code latents}' manager (or the enclosing NDScope)
     */
    // Port of diffusers autoencoder_kl.AutoencoderKL._decode
    public NDArray decode(NDArray latents) {
        Shape s = latents.getShape();
        if (s.dimension() != 4 || s.get(1) != config.latentChannels()) {
            throw new IllegalArgumentException(
                    "latents must be [B, " + config.latentChannels() + ", h, w], got " + s);
        }
        return InnerScope.keep(
                () -> {
                    NDArray z = toModel(latents);
                    if (postQuantConv != null) {
                        z = postQuantConv.forward(z);
                    }
                    return decoder.forward(z);
                });
    }

    /**
     * Encodes images in [-1, 1] to the latent distribution (unscaled).
     *
     * @param image [B, in_channels, H, W]
     */
    // Port of diffusers autoencoder_kl.AutoencoderKL._encode and
    // vae.DiagonalGaussianDistribution.__init__
    public LatentDist encode(NDArray image) {
        Shape s = image.getShape();
        if (s.dimension() != 4 || s.get(1) != config.inChannels()) {
            throw new IllegalArgumentException(
                    "image must be [B, " + config.inChannels() + ", H, W], got " + s);
        }
        NDList out =
                InnerScope.keepAll(
                        () -> {
                            NDArray h = encoder.forward(toModel(image));
                            NDArray moments = quantConv != null ? quantConv.forward(h) : h;
                            NDList parts = moments.split(2, 1);
                            NDArray mean = parts.get(0);
                            NDArray logvar = parts.get(1).clip(-30.0f, 20.0f);
                            NDArray std = logvar.mul(0.5f).exp();
                            return new NDList(mean, std);
                        });
        return new LatentDist(out.get(0), out.get(1));
    }
}
