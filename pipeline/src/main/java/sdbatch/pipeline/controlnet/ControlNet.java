package sdbatch.pipeline.controlnet;

import java.nio.file.Path;
import sdbatch.pipeline.models.ControlNetModel;

/**
 * A ControlNet a pipeline has loaded ({@link sdbatch.pipeline.StableDiffusionPipeline#controlNet}),
 * what a request names in its {@link ControlNetUnit}: one per folder and pipeline, so requests
 * naming the same ControlNet batch together (the handle's identity is the batch key). The pipeline
 * owns and closes the weights; a handle is only valid with the pipeline that loaded it.
 */
public final class ControlNet {
    private final Path folder;
    private final ControlNetModel model;

    ControlNet(Path folder, ControlNetModel model) {
        this.folder = folder;
        this.model = model;
    }

    /** The folder it was loaded from (absolute, normalised). */
    public Path folder() {
        return folder;
    }

    /** The folder's name: how messages and metadata name the ControlNet. */
    public String name() {
        return String.valueOf(folder.getFileName());
    }

    ControlNetModel model() {
        return model;
    }

    @Override
    public String toString() {
        return "ControlNet[" + folder + "]";
    }
}
