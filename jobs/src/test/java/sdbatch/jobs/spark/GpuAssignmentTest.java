package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
