package sdbatch.pipeline.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.StateDictWeights;
import sdbatch.pipeline.weights.Weights;

/**
 * What diffusers' {@code ModelMixin} does alike for the UNet and the VAE, said once: loading a
 * component folder ({@code config.json} and safetensors weights, checked against every parameter
 * the model asked for), owning the parameter arrays the model took and the manager the load made
 * for them, and closing both.
 */
final class ModelParameters implements AutoCloseable {
    private final List<NDArray> arrays = new ArrayList<>();
    // The first parameter's: the model's compute dtype and device, kept after close.
    private DataType dtype;
    private Device device;
    private NDManager ownedManager;
    private LiveParameters live;

    /**
     * Loads a model from {@code dir} into a sub-manager of {@code manager} (its device), converted
     * to {@code dtype}: {@code readConfig} reads the folder's config, {@code construct} builds the
     * model from it and the weights it is given; then every tensor must have been asked for, with
     * its shape. On any failure the sub-manager, and with it every array read, is closed.
     *
     * @throws sdbatch.pipeline.weights.ModelLoadException for a missing folder, pickle-only
     *     weights, a bad config, or missing, unexpected or misshapen tensors (listed together)
     * @throws IOException if a file cannot be read
     */
    static <C, M extends PretrainedModel<C>> M load(
            Path dir,
            NDManager manager,
            DataType dtype,
            Function<Path, C> readConfig,
            BiFunction<C, Weights, M> construct)
            throws IOException {
        NDManager sub = manager.newSubManager();
        try (StateDictWeights weights = StateDictWeights.open(dir, sub, dtype)) {
            C config = readConfig.apply(dir);
            // Every shape is checked against the headers before one tensor is read.
            weights.checkShapes(w -> construct.apply(config, w));
            LiveParameters table =
                    new LiveParameters(String.valueOf(dir.getFileName()), dir, dtype);
            M model = construct.apply(config, table.recording(weights));
            weights.finish();
            ModelParameters owned = model.parameters;
            owned.ownedManager = sub;
            owned.live = table;
            return model;
        } catch (IOException | RuntimeException e) {
            sub.close();
            throw e;
        }
    }

    /**
     * The parameters by state-dict key, for LoRA merges; for a model not loaded from a folder, an
     * empty table that cannot be restored.
     */
    LiveParameters live(String component) {
        return live != null ? live : new LiveParameters(component, null, null);
    }

    /** A view of {@code source} whose every array these parameters take (and later close). */
    Weights record(Weights source) {
        return new RecordingWeights(source, this);
    }

    /** Takes {@code parameter}: closed with these parameters; the first sets dtype and device. */
    void take(NDArray parameter) {
        if (arrays.isEmpty()) {
            dtype = parameter.getDataType();
            device = parameter.getDevice();
        }
        arrays.add(parameter);
    }

    /** The model's compute dtype: that of its first parameter. */
    DataType dtype() {
        return dtype;
    }

    /** The device of the model's weights (that of its first parameter). */
    Device device() {
        return device;
    }

    /** {@code a} on the parameters' device in their dtype: a model's input made ready for them. */
    NDArray toModel(NDArray a) {
        NDArray d = a.toDevice(device, false);
        return d.getDataType() == dtype ? d : d.toType(dtype, false);
    }

    /** Closes the parameters (and the manager {@link #load} created). */
    @Override
    public void close() {
        for (NDArray p : arrays) {
            p.close();
        }
        arrays.clear();
        if (ownedManager != null) {
            ownedManager.close();
            ownedManager = null;
        }
    }
}
