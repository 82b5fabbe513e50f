package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** Each task gets its share of the executor's cores, never every core of the machine. */
class TaskThreadsTest {
    @Test
    void threadsAreTheExecutorsCoresSharedAmongItsTasksAtOnce() {
        // 8 cores, 1 cpu per task: 8 tasks at once, 1 thread each (not 8 x 8).
        assertEquals(1, TaskThreads.perTask(8, 1, 64));
        // 8 cores, 4 cpus per task: 2 tasks, 4 threads each.
        assertEquals(4, TaskThreads.perTask(8, 4, 64));
        // 8 cores, 3 cpus per task: 2 tasks at once share all 8 cores.
        assertEquals(4, TaskThreads.perTask(8, 3, 64));
        // One task per executor (a GPU executor with task.cpus = cores): all its cores.
        assertEquals(16, TaskThreads.perTask(16, 16, 64));
        // Never more than this machine has, never fewer than 1.
        assertEquals(4, TaskThreads.perTask(16, 16, 4));
        assertEquals(2, TaskThreads.perTask(2, 4, 64));
        assertEquals(1, TaskThreads.perTask(0, 1, 64));
    }

    @Test
    void executorCoresComeFromTheSettingOrTheMaster() {
        assertEquals(6, TaskThreads.executorCores("spark://m:7077", "6", 64));
        assertEquals(64, TaskThreads.executorCores("spark://m:7077", null, 64));
        assertEquals(1, TaskThreads.executorCores("yarn", null, 64));
        assertEquals(1, TaskThreads.executorCores("k8s://https://api:6443", null, 64));
        assertEquals(4, TaskThreads.executorCores("local[4]", null, 64));
        assertEquals(4, TaskThreads.executorCores("local[4,2]", null, 64));
        assertEquals(64, TaskThreads.executorCores("local[*]", null, 64));
        assertEquals(1, TaskThreads.executorCores("local", null, 64));
        assertThrows(
                IllegalArgumentException.class,
                () -> TaskThreads.executorCores("yarn", "four", 64));
    }

    @Test
    void fromASparkConfiguration() {
        SparkConf local = new SparkConf(false).set("spark.master", "local[*]");
        // local[*] on 16 cores: 16 tasks at once, 1 thread each.
        assertEquals(1, TaskThreads.perTask(local, 16));
        SparkConf cluster =
                new SparkConf(false)
                        .set("spark.master", "yarn")
                        .set("spark.executor.cores", "8")
                        .set("spark.task.cpus", "2");
        assertEquals(2, TaskThreads.perTask(cluster, 32));
        assertEquals(0, TaskThreads.forThisExecutor(), "outside Spark: libtorch's default");
    }
}
