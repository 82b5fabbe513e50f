package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

class DDIMSchedulerTest {
    static SchedulerConfig cfg() {
        return SchedulerConfig.defaults("DDIMScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1000,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\",\"clip_sample\":true}");
    }

    @Test
    void test_full_loop_no_noise() {
        try (NDManager m = NDManager.newBaseManager();
                DDIMScheduler s = new DDIMScheduler(cfg())) {
            s.setTimesteps(10);
            NDArray sample = Dummies.sampleDeter(m);
            for (double t : s.timesteps()) {
                sample = s.step(Dummies.model(sample, t), t, sample, null).prevSample();
            }
            double[] r = Dummies.sumMean(sample);
            System.out.println(java.util.Arrays.toString(r));
            assertEquals(172.0067, r[0], 1e-2);
        }
    }
}
