package sdbatch.pipeline.controlnet;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdbatch.pipeline.config.ControlNetConfig;
import sdbatch.pipeline.models.ControlNetModel;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The ControlNets one pipeline has loaded: each folder once, in the pipeline's dtype on its device,
 * checked to fit the pipeline's UNet and VAE, and closed with the pipeline. Thread-safe.
 */
public final class ControlNets implements AutoCloseable {
    private final NDManager manager;
    private final DataType dtype;
    private final ControlNetFit fit;
    private final Map<Path, ControlNet> loaded = new LinkedHashMap<>();

    /**
     * @param manager the pipeline's manager (each ControlNet gets a sub-manager of it)
     * @param dtype the pipeline's compute dtype
     * @param fit what every ControlNet loaded here must fit
     */
    public ControlNets(NDManager manager, DataType dtype, ControlNetFit fit) {
        this.manager = manager;
        this.dtype = dtype;
        this.fit = fit;
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
        fit.check(key, ControlNetConfig.load(key));
        ControlNetModel model = ControlNetModel.load(key, manager, dtype);
        ControlNet handle = new ControlNet(key, model);
        loaded.put(key, handle);
        return handle;
    }

    /** Whether {@code controlNet} was loaded here (a handle is only valid with its pipeline). */
    public synchronized boolean owns(ControlNet controlNet) {
        return loaded.get(controlNet.folder()) == controlNet;
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
