package sdbatch.pipeline.config;

/** Test fixtures of this package for other test packages. */
public final class SchedulerConfigTestAccess {
    private SchedulerConfigTestAccess() {}

    /** The SD 1.5 PNDM {@code scheduler_config.json} (plus one unknown key). */
    public static final String PNDM_SD15 = SchedulerConfigTest.PNDM_SD15;
}
