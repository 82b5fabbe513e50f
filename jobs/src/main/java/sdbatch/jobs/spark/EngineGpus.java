package sdbatch.jobs.spark;

import ai.djl.engine.Engine;

/**
 * The CUDA GPUs this JVM's libtorch can use: none with DJL's CPU libtorch (the jar's default,
 * whatever GPUs the machine has), the visible ones ({@code CUDA_VISIBLE_DEVICES} applied) with the
 * CUDA build ({@code PYTORCH_FLAVOR=cu128}, deploy/README.md).
 */
final class EngineGpus {
    /** DJL's name of the engine the pipeline runs on. */
    static final String ENGINE = "PyTorch";

    private EngineGpus() {}

    /** GPUs the engine sees; 0 when its libtorch has no CUDA or no GPU is visible. */
    static int count() {
        return Engine.getEngine(ENGINE).getGpuCount();
    }

    /** What the engine is and why it has GPUs or not, for messages. */
    static String describe() {
        Engine engine = Engine.getEngine(ENGINE);
        boolean cuda = engine.hasCapability("CUDA");
        return ENGINE
                + " "
                + engine.getVersion()
                + (cuda
                        ? ", CUDA build, " + engine.getGpuCount() + " GPU(s) visible"
                        : ", CPU-only build: no CUDA in this libtorch (a GPU machine needs the"
                                + " CUDA libtorch, PYTORCH_FLAVOR=cu128, see deploy/README.md)");
    }
}
