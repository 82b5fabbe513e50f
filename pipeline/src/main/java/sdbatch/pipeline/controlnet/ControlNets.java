package sdbatch.pipeline.controlnet;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdbatch.pipeline.config.ControlNetConfig;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.ControlNetModel;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The ControlNets one pipeline has loaded: each folder once, in the pipeline's dtype on its device,
 * checked to fit the pipeline's UNet and VAE, and closed with the pipeline. Thread-safe.
 */
public final class ControlNets implements AutoCloseable {
    private final NDManager manager;
    private final DataType dtype;
    private final UNetConfig unet;
    private final int vaeScaleFactor;
    private final int latentChannels;
    private final Map<Path, ControlNet> loaded = new LinkedHashMap<>();

    /**
     * @param manager the pipeline's manager (each ControlNet gets a sub-manager of it)
     * @param dtype the pipeline's compute dtype
     * @param unet the config of the UNet the residuals are added to
     * @param vaeScaleFactor pixels per latent of the pipeline's VAE
     * @param latentChannels the latent channels the ControlNet sees
     */
    public ControlNets(
            NDManager manager,
            DataType dtype,
            UNetConfig unet,
            int vaeScaleFactor,
            int latentChannels) {
        this.manager = manager;
        this.dtype = dtype;
        this.unet = unet;
        this.vaeScaleFactor = vaeScaleFactor;
        this.latentChannels = latentChannels;
    }

    /**
     * The ControlNet in {@code folder} ({@code config.json} and {@code
     * diffusion_pytorch_model.safetensors}, as diffusers saves a {@code ControlNetModel}): loaded
     * on the first call, the same handle afterwards.
     *
     * @throws ModelLoadException naming the folder and the reason, for a folder that is not a
     *     ControlNet or one that does not fit this pipeline's UNet
     * @throws IOException if a file cannot be read
     */
    public synchronized ControlNet load(Path folder) throws IOException {
        Path key = folder.toAbsolutePath().normalize();
        ControlNet hit = loaded.get(key);
        if (hit != null) {
            return hit;
        }
        checkFits(key, ControlNetConfig.load(key));
        ControlNetModel model = ControlNetModel.load(key, manager, dtype);
        ControlNet handle = new ControlNet(key, model);
        loaded.put(key, handle);
        return handle;
    }

    /** Whether {@code controlNet} was loaded here (a handle is only valid with its pipeline). */
    public synchronized boolean owns(ControlNet controlNet) {
        return loaded.get(controlNet.folder()) == controlNet;
    }

    /**
     * The residuals must match the UNet's skip connections one for one, and the control picture
     * must come down to the latent size.
     */
    private void checkFits(Path folder, ControlNetConfig c) {
        fits(folder, "block_out_channels", c.blockOutChannels(), unet.blockOutChannels());
        fits(folder, "layers_per_block", c.layersPerBlock(), unet.layersPerBlock());
        fits(folder, "cross_attention_dim", c.crossAttentionDim(), unet.crossAttentionDim());
        fits(folder, "in_channels", c.inChannels(), latentChannels);
        int f = 1 << (c.conditioningEmbeddingOutChannels().size() - 1);
        fits(
                folder,
                "conditioning embedding's downsampling (pixels per latent)",
                f,
                vaeScaleFactor);
    }

    private static void fits(Path folder, String what, Object controlNet, Object pipeline) {
        if (!controlNet.equals(pipeline)) {
            throw new ModelLoadException(
                    "ControlNet "
                            + folder
                            + " does not fit this model: its "
                            + what
                            + " is "
                            + controlNet
                            + ", the model's is "
                            + pipeline);
        }
    }

    /** Closes every loaded ControlNet's weights. */
    @Override
    public synchronized void close() {
        for (ControlNet c : loaded.values()) {
            c.model().close();
        }
        loaded.clear();
    }
}
