package sdbatch.pipeline.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * What every network loaded from a component folder has alike, as diffusers' {@code ModelMixin}
 * (and transformers' {@code PreTrainedModel}) give it: the config it was built from, the parameter
 * arrays it took ({@link ModelParameters}: their first one fixes the compute dtype and device) and
 * closing them. Loading is {@link ModelParameters#load}.
 *
 * @param <C> the folder's {@code config.json}
 */
public abstract class PretrainedModel<C> implements AutoCloseable {
    /** The config the model was built from (read by the subclass's forward code). */
    final C config;

    /** The parameters the model asks for ({@link ModelParameters#record}) and owns. */
    final ModelParameters parameters = new ModelParameters();

    PretrainedModel(C config) {
        this.config = config;
    }

    /** The config the model was built from. */
    public C config() {
        return config;
    }

    /** The compute dtype: that of the weights (and of the output). */
    public DataType dtype() {
        return parameters.dtype();
    }

    /** The device of the weights, where every forward pass runs. */
    public Device device() {
        return parameters.device();
    }

    /** {@code a} on the weights' device in their dtype: an input made ready for the model. */
    NDArray toModel(NDArray a) {
        return parameters.toModel(a);
    }

    /** Closes the weights (and the sub-manager {@link ModelParameters#load} made for them). */
    @Override
    public void close() {
        parameters.close();
    }
}
