package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import sdbatch.jobs.cli.JobOptions.Device;
import sdbatch.jobs.cli.StartupException;

class GpuAssignmentTest {
    @Test
    void deviceSemantics() {
        assertEquals(new GpuAssignment("gpu:1", "1"), GpuAssignment.resolve(Device.AUTO, "1"));
        assertEquals(new GpuAssignment("cpu", null), GpuAssignment.resolve(Device.AUTO, null));
        assertEquals(new GpuAssignment("cpu", "1"), GpuAssignment.resolve(Device.CPU, "1"));
        assertEquals(new GpuAssignment("gpu:0", "0"), GpuAssignment.resolve(Device.GPU, "0"));
        assertThrows(StartupException.class, () -> GpuAssignment.resolve(Device.GPU, null));
        assertNull(GpuAssignment.assignedAddress(), "outside a task");
    }

    @Test
    void addressesAreCudaOrdinalsInTheVisibleOrder() {
        // deploy/gpu-discovery.sh reports ordinals: they are used as they are.
        assertEquals(0, GpuAssignment.cudaOrdinal("0", null));
        assertEquals(1, GpuAssignment.cudaOrdinal("1", "2,3"));
        assertEquals(1, new GpuAssignment("gpu:1", "1").djlDevice("2,3").getDeviceId());
    }

    @Test
    void anNvidiaSmiIndexBeyondTheVisibleGpusIsRefusedNotUsed() {
        // A script printing nvidia-smi indexes gives "3" to a task whose process sees host GPUs 2
        // and 3 as cuda:0 and cuda:1: cuda:3 does not exist (or is another task's GPU).
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () -> new GpuAssignment("gpu:3", "3").djlDevice("2,3"));
        assertTrue(e.getMessage().contains("'3' is not a CUDA ordinal"), e.getMessage());
        assertTrue(e.getMessage().contains("CUDA_VISIBLE_DEVICES='2,3'"), e.getMessage());
        assertTrue(e.getMessage().contains("ordinals 0..1"), e.getMessage());
    }

    @Test
    void uuidAddressesMapToTheirPositionInCudaVisibleDevices() {
        String visible = "GPU-dddd4444-0000,GPU-bbbb2222";
        assertEquals(0, GpuAssignment.cudaOrdinal("GPU-dddd4444-0000", visible));
        // CUDA_VISIBLE_DEVICES may hold a UUID prefix, with or without "GPU-".
        assertEquals(1, GpuAssignment.cudaOrdinal("GPU-bbbb2222-1111", visible));
        assertEquals(1, GpuAssignment.cudaOrdinal("GPU-bbbb2222-1111", "0,bbbb"));
        assertEquals(
                1, new GpuAssignment("gpu:GPU-bbbb2222", null).djlDevice(visible).getDeviceId());
        // Digits are an index, never a UUID prefix; an unlisted UUID has no ordinal here.
        assertThrows(IllegalStateException.class, () -> GpuAssignment.cudaOrdinal("GPU-1234", "1"));
        assertThrows(
                IllegalStateException.class, () -> GpuAssignment.cudaOrdinal("GPU-eeee", visible));
        assertThrows(
                IllegalStateException.class, () -> GpuAssignment.cudaOrdinal("GPU-eeee", null));
        assertThrows(IllegalStateException.class, () -> GpuAssignment.cudaOrdinal("gpu0", null));
    }
}
