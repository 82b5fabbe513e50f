package sdbatch.pipeline.compute;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's intra-op thread count for the calling thread ({@code at::set_num_threads}: the OpenMP
 * team size of the parallel regions this thread starts). Set for the span of a pipeline call by
 * {@link ComputeOptions#enter()}; every task of an executor sets the same share of its cores, so
 * libtorch's process-wide default, which new threads start from, agrees with them too.
 */
final class IntraOpThreads {
    private IntraOpThreads() {}

    /** Sets {@code threads} on this thread; closing the scope restores the previous count. */
    static ComputeOptions.Scope set(int threads) {
        Engine.getEngine("PyTorch"); // loads libtorch before its JNI is called
        int previous = JniUtils.getNumThreads();
        if (previous == threads) {
            return () -> {};
        }
        JniUtils.setNumThreads(threads);
        return () -> JniUtils.setNumThreads(previous);
    }
}
