package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import org.junit.jupiter.api.Test;

class DeviceFaultsTest {
    @Test
    void cudaContextFaultsPoisonTheDeviceWhereverTheyAreInTheCauses() {
        assertTrue(
                DeviceFaults.poisonsDevice(
                        new EngineException(
                                "CUDA error: an illegal memory access was encountered\n"
                                        + "CUDA kernel errors might be asynchronously reported")));
        assertTrue(
                DeviceFaults.poisonsDevice(
                        new IllegalStateException(
                                "generating failed",
                                new EngineException(
                                        "CUBLAS_STATUS_EXECUTION_FAILED when calling cublasSgemm"))));
        assertTrue(
                DeviceFaults.poisonsDevice(
                        new EngineException("CUDA error: device-side assert triggered")));
    }

    @Test
    void outOfMemoryAndRequestProblemsDoNot() {
        assertFalse(
                DeviceFaults.poisonsDevice(
                        new EngineException(
                                "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB"
                                        + " total capacity)")));
        assertFalse(DeviceFaults.poisonsDevice(new EngineException("CUDA error: out of memory")));
        assertFalse(DeviceFaults.poisonsDevice(new OutOfMemoryError("Java heap space")));
        assertFalse(
                DeviceFaults.poisonsDevice(
                        new IllegalArgumentException("width 63: must be a multiple of 8")));
        assertFalse(DeviceFaults.poisonsDevice(new NullPointerException()));
    }
}
