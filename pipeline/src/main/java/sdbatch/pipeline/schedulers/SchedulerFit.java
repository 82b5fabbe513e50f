package sdbatch.pipeline.schedulers;

import java.util.List;
import sdbatch.schemas.SchedulerNames;

/**
 * Which schedulers fit which models: a flow-matching model (SD3, SD3.5) predicts a velocity and
 * runs only {@link FlowMatchEulerDiscreteScheduler}; a noise-prediction model (SD 1.x/2.x, SDXL:
 * epsilon or v) runs every other scheduler and not that one, which would read its prediction as a
 * velocity (diffusers' SD and SDXL pipelines fail on it: it has no {@code scale_model_input}). The
 * pipeline refuses a misfit request and the job's planner marks its row invalid, before anything
 * loads, with the same message.
 */
public final class SchedulerFit {
    private SchedulerFit() {}

    /**
     * Why {@code scheduler} (any spelling the registry accepts; null, blank or {@code default} =
     * the folder's own) cannot run a model of this kind, or null when it can.
     *
     * @param flowMatchingModel whether the model is trained for flow matching (SD3)
     * @throws IllegalArgumentException for a name the registry does not know
     */
    public static String misfit(String scheduler, boolean flowMatchingModel) {
        if (scheduler == null
                || scheduler.isBlank()
                || scheduler.trim().equalsIgnoreCase("default")) {
            return null;
        }
        String cls = Schedulers.canonicalName(scheduler, null);
        boolean flowMatching = cls.equals(FlowMatchEulerDiscreteScheduler.CLASS_NAME);
        if (flowMatching == flowMatchingModel) {
            return null;
        }
        if (flowMatchingModel) {
            return "is "
                    + cls
                    + ", which does not fit an SD3 model (trained for flow matching); the"
                    + " schedulers that fit: default, "
                    + FlowMatchEulerDiscreteScheduler.CLASS_NAME
                    + ", flow_match_euler";
        }
        List<String> fitting =
                SchedulerNames.ALL.stream()
                        .filter(e -> !e.diffusersClass().equals(cls))
                        .map(SchedulerNames.Entry::alias)
                        .toList();
        return "is "
                + cls
                + ", which does not fit an SD 1.x/2.x or SDXL model (trained for noise"
                + " prediction, not flow matching); the schedulers that fit: default, "
                + String.join(", ", fitting);
    }

    /**
     * Refuses a scheduler that does not fit the model.
     *
     * @throws IllegalArgumentException naming the scheduler, why, and the ones that fit
     */
    public static void check(String scheduler, boolean flowMatchingModel) {
        String why = misfit(scheduler, flowMatchingModel);
        if (why != null) {
            throw new IllegalArgumentException("scheduler " + scheduler + ": " + why);
        }
    }
}
