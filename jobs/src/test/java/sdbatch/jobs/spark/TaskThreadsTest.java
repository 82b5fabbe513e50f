package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** Each task gets its share of the executor's cores, never every core of the machine. */
class TaskThreadsTest {
    @Test
    void clusterExecutorsShareTheirCoresAmongTheTasksTheyRunAtOnce() {
        // 8 cores, 1 cpu per task: 8 tasks at once, 1 thread each (not 8 x 8 threads).
        assertEquals(1, TaskThreads.perTask("spark://m:7077", "8", 1, 64));
        // 8 cores, 4 cpus per task: 2 tasks, 4 threads each.
        assertEquals(4, TaskThreads.perTask("yarn", "8", 4, 64));
        // 8 cores, 3 cpus per task: the 2 tasks at once share all 8 cores.
        assertEquals(4, TaskThreads.perTask("yarn", "8", 3, 64));
        // One task per executor (task.cpus = cores, as a GPU executor): all its cores.
        assertEquals(16, TaskThreads.perTask("k8s://https://api:6443", "16", 16, 64));
        // Never more than this JVM sees (a container's CPU limit).
        assertEquals(4, TaskThreads.perTask("k8s://https://api:6443", "16", 16, 4));
        // Unset: Spark's default of 1 core on YARN and Kubernetes, the worker's on standalone.
        assertEquals(1, TaskThreads.perTask("yarn", null, 1, 64));
        assertEquals(1, TaskThreads.perTask("k8s://https://api:6443", null, 1, 64));
        assertEquals(64, TaskThreads.perTask("spark://m:7077", null, 64, 64));
        assertEquals(1, TaskThreads.perTask("spark://m:7077", null, 1, 64));
        assertThrows(
                IllegalArgumentException.class, () -> TaskThreads.perTask("yarn", "four", 1, 64));
    }

    @Test
    void localModeSharesTheMachineAmongItsTaskSlots() {
        // local[*]: one task per core, one thread each.
        assertEquals(1, TaskThreads.perTask("local[*]", null, 1, 16));
        // local[1] (sdbatch bench): its one task gets every core.
        assertEquals(16, TaskThreads.perTask("local[1]", null, 1, 16));
        assertEquals(16, TaskThreads.perTask("local", null, 1, 16));
        // local[4]: 4 tasks, 4 threads each; local[4,2] (with retries) the same.
        assertEquals(4, TaskThreads.perTask("local[4]", null, 1, 16));
        assertEquals(4, TaskThreads.perTask("local[4,2]", null, 1, 16));
        // local[4] with task.cpus 2: 2 tasks at once, 8 threads each.
        assertEquals(8, TaskThreads.perTask("local[4]", null, 2, 16));
        // More slots than cores: still at least one thread.
        assertEquals(1, TaskThreads.perTask("local[32]", null, 1, 16));
    }

    @Test
    void fromASparkConfiguration() {
        assertEquals(
                1, TaskThreads.perTask(new SparkConf(false).set("spark.master", "local[*]"), 16));
        SparkConf cluster =
                new SparkConf(false)
                        .set("spark.master", "yarn")
                        .set("spark.executor.cores", "8")
                        .set("spark.task.cpus", "2");
        assertEquals(2, TaskThreads.perTask(cluster, 32));
        assertEquals(0, TaskThreads.forThisExecutor(), "outside Spark: libtorch's default");
    }
}
