package sdbatch.jobs.spark;

import java.util.List;
import java.util.Locale;

/**
 * Tells a failure that broke the GPU (or its CUDA context) from one that is a request's or a
 * batch's own. After an illegal memory access, a device-side assert or a failed launch, CUDA's
 * context is lost and every later call on it fails, whatever the request; libtorch reports these
 * through DJL's {@code EngineException} with CUDA's own message text, which is what is matched.
 * Running out of GPU memory is not such a fault: the batch is split and retried smaller (see {@code
 * PartitionRunner}), and the same pipeline serves the smaller batches.
 */
final class DeviceFaults {
    private DeviceFaults() {}

    /**
     * Text of CUDA, cuBLAS and cuDNN failures after which the context cannot be trusted (lower
     * case).
     */
    static final List<String> MARKERS =
            List.of(
                    "cuda error",
                    "cuda driver error",
                    "cudaerror",
                    "cublas_status_",
                    "cudnn_status_",
                    "cudnn error",
                    "device-side assert",
                    "illegal memory access",
                    "unspecified launch failure",
                    "uncorrectable ecc error",
                    "nccl error");

    /**
     * Whether {@code failure} or one of its causes reports a device fault (see the class comment);
     * an out-of-memory report never is one.
     */
    static boolean poisonsDevice(Throwable failure) {
        boolean fault = false;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (m == null) {
                continue;
            }
            String lower = m.toLowerCase(Locale.ROOT);
            if (lower.contains("out of memory")) {
                return false;
            }
            for (String marker : MARKERS) {
                if (lower.contains(marker)) {
                    fault = true;
                    break;
                }
            }
        }
        return fault;
    }
}
