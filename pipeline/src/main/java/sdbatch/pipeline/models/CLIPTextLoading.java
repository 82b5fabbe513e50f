package sdbatch.pipeline.models;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.StateDictWeights;
import sdbatch.pipeline.weights.Weights;

/**
 * Loading a transformers CLIP text component folder ({@code config.json} and safetensors weights),
 * shared by {@link CLIPTextModel} and {@link CLIPTextModelWithProjection}.
 */
final class CLIPTextLoading {
    private CLIPTextLoading() {}

    /** Builds a text model from a config, its weights, the load's manager and parameter table. */
    interface Builder<M> {
        M build(CLIPTextConfig config, Weights weights, NDManager owned, LiveParameters live);
    }

    /**
     * What loading a transformers CLIP text component takes, with or without a projection: the
     * config, the safetensors weights in a sub-manager of {@code manager} converted to {@code
     * dtype}, every shape checked before a tensor is read, every tensor asked for.
     */
    static <M> M load(
            Path dir, NDManager manager, DataType dtype, String component, Builder<M> builder)
            throws IOException {
        if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16 && dtype != DataType.FLOAT64) {
            // DJL 0.36's PyTorch engine aborts the whole JVM when it creates or converts to a
            // bfloat16 array, so refuse it here rather than crash an executor.
            throw new IllegalArgumentException(
                    "text encoder dtype "
                            + dtype
                            + " is not supported (supported: float32, float16, float64)");
        }
        CLIPTextConfig config = CLIPTextConfig.load(dir);
        NDManager modelManager = manager.newSubManager();
        modelManager.setName(component + " " + dir);
        try (StateDictWeights weights = StateDictWeights.open(dir, modelManager, dtype)) {
            // position_ids is a buffer (arange), persistent in old transformers, not a weight.
            weights.ignoreUnexpected(k -> k.endsWith("embeddings.position_ids"));
            // Every shape is checked against the headers before one tensor is read.
            weights.checkShapes(
                    w -> builder.build(config, w, null, new LiveParameters(component, null, null)));
            LiveParameters live = new LiveParameters(component, dir, dtype);
            M model = builder.build(config, live.recording(weights), modelManager, live);
            weights.finish();
            return model;
        } catch (IOException | RuntimeException e) {
            modelManager.close();
            throw e;
        }
    }
}
