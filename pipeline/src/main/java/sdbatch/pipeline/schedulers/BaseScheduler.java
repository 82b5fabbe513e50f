package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * What every scheduler does the same way around diffusers' math: the native-memory discipline of a
 * step (temporaries die with the step, results go to the sample's manager, history to a manager of
 * the scheduler's own) and the checks of the step arguments. The math is in the subclasses.
 */
abstract class BaseScheduler implements Scheduler {
    protected final SchedulerConfig config;

    /** The inference timesteps; empty until {@link #setTimesteps}. */
    protected double[] timesteps = new double[0];

    /** diffusers' {@code num_inference_steps}; 0 = None. */
    protected int numInferenceSteps;

    /** diffusers' {@code _step_index}; -1 = None. */
    protected int stepIndex = -1;

    /** diffusers' {@code _begin_index}; -1 = None. */
    protected int beginIndex = -1;

    private NDManager history;

    BaseScheduler(SchedulerConfig config, String className) {
        if (config == null) {
            throw new IllegalArgumentException("scheduler config is null");
        }
        this.config = config.forClass(className);
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    @Override
    public double[] timesteps() {
        return timesteps.clone();
    }

    /** 1: the schedulers that step in alpha space start from unit-variance noise. */
    @Override
    public float initNoiseSigma() {
        return 1f;
    }

    @Override
    public int order() {
        return 1;
    }

    @Override
    public boolean drawsNoise() {
        return false;
    }

    @Override
    public NDArray scaleModelInput(NDArray sample, double t) {
        return sample;
    }

    @Override
    public void setBeginIndex(int beginIndex) {
        if (beginIndex < 0 || beginIndex >= Math.max(1, timesteps.length)) {
            throw new IllegalArgumentException(
                    "begin index "
                            + beginIndex
                            + " is outside the "
                            + timesteps.length
                            + " timesteps of the schedule");
        }
        this.beginIndex = beginIndex;
    }

    /**
     * The noised sample of the schedulers that keep {@code alphas_cumprod} per training timestep:
     * {@code sqrt(alphas_cumprod[t]) * original + sqrt(1 - alphas_cumprod[t]) * noise}, the factors
     * in float32 as torch computes them.
     */
    // Port of diffusers scheduling_ddpm.DDPMScheduler.add_noise (copied into DDIM and PNDM)
    protected static NDArray addNoiseAlphaSpace(
            float[] alphasCumprod, NDArray originalSamples, NDArray noise, double t) {
        checkSameShape(originalSamples, noise);
        int timestep = trainingTimestep(t, alphasCumprod.length, "add_noise");
        float alphaProd = alphasCumprod[timestep];
        float sqrtAlphaProd = ScheduleMath.sqrt(alphaProd);
        float sqrtOneMinusAlphaProd = ScheduleMath.sqrt(1f - alphaProd);
        return InnerScope.keep(
                () -> originalSamples.mul(sqrtAlphaProd).add(noise.mul(sqrtOneMinusAlphaProd)));
    }

    /**
     * The index into the sigmas that {@code add_noise} reads at {@code t}: by timestep when no
     * begin index was set, else the current step (noise added during the run, for inpainting), else
     * the begin index (image-to-image's first latents).
     */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.add_noise (the step
    // indices; copied into the other sigma schedulers and the multistep solvers)
    protected int addNoiseIndex(double t) {
        if (beginIndex < 0) {
            return indexOf(t);
        }
        return stepIndex >= 0 ? stepIndex : beginIndex;
    }

    protected static void checkSameShape(NDArray originalSamples, NDArray noise) {
        checkSameShape("noise", noise, "the samples'", originalSamples);
    }

    /**
     * Refuses {@code array} unless it has {@code reference}'s shape; the names are for the message.
     */
    private static void checkSameShape(
            String arrayName, NDArray array, String referenceName, NDArray reference) {
        if (!array.getShape().equals(reference.getShape())) {
            throw new IllegalArgumentException(
                    arrayName
                            + " shape "
                            + array.getShape()
                            + " differs from "
                            + referenceName
                            + " shape "
                            + reference.getShape());
        }
    }

    @Override
    public final SchedulerOutput step(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        if (modelOutput == null || sample == null) {
            throw new IllegalArgumentException(
                    "step needs modelOutput and sample, got " + modelOutput + ", " + sample);
        }
        if (numInferenceSteps == 0) {
            throw new IllegalStateException(
                    "Number of inference steps is not set: call setTimesteps before step");
        }
        if (drawsNoise() && noise == null) {
            throw new IllegalArgumentException(
                    getClass().getSimpleName() + " draws noise in step: noise must not be null");
        }
        checkSameShape("modelOutput", modelOutput, "sample", sample);
        NDManager caller = sample.getManager();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            SchedulerOutput out = doStep(modelOutput, t, sample, noise);
            NDArray prev = out.prevSample();
            NDArray pred = out.predOriginalSample();
            NDScope.unregister(prev);
            prev.attach(caller);
            if (pred != null) {
                if (pred == modelOutput || pred == sample) {
                    pred = pred.duplicate();
                }
                NDScope.unregister(pred);
                pred.attach(caller);
            }
            return new SchedulerOutput(prev, pred);
        }
    }

    /** diffusers' {@code step}, run inside an {@link NDScope} that closes its temporaries. */
    protected abstract SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise);

    /** Keeps an array made in this step as history: out of the step scope, into our manager. */
    protected NDArray keep(NDArray created, NDArray like) {
        NDScope.unregister(created);
        created.attach(history(like));
        return created;
    }

    /** Keeps a copy of a caller's array (which the caller may close) as history. */
    protected NDArray keepCopy(NDArray callers) {
        return keep(callers.duplicate(), callers);
    }

    /** Frees a history array dropped from the window. */
    protected static void drop(NDArray history) {
        if (history != null) {
            history.close();
        }
    }

    private NDManager history(NDArray like) {
        if (history == null || !history.isOpen()) {
            history = like.getManager().newSubManager();
        }
        return history;
    }

    /** Frees all history; called by {@link #setTimesteps} implementations and {@link #close}. */
    protected void clearHistory() {
        if (history != null) {
            history.close();
            history = null;
        }
    }

    @Override
    public void close() {
        clearHistory();
    }

    /**
     * Forgets the step and begin indices, as every diffusers {@code set_timesteps} ends ({@code
     * self._step_index = None; self._begin_index = None}): the next step finds its place anew.
     */
    protected void resetStepIndex() {
        stepIndex = -1;
        beginIndex = -1;
    }

    /**
     * Sets the step index from the first timestep stepped or scaled, if not set yet: a timestep not
     * in the schedule is an error.
     */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler._init_step_index (copied
    // into Euler a, LMS and Heun)
    protected void initStepIndex(double t) {
        if (stepIndex < 0) {
            stepIndex = beginIndex >= 0 ? beginIndex : indexOf(t);
        }
    }

    /**
     * Sets the step index from the first timestep stepped, if not set yet: a timestep not in the
     * schedule starts at the last step rather than failing.
     */
    // Port of diffusers scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler._init_step_index
    // and index_for_timestep (copied into UniPC)
    protected void initMultistepStepIndex(double t) {
        if (stepIndex < 0 && beginIndex >= 0) {
            stepIndex = beginIndex;
        } else if (stepIndex < 0) {
            int i = SigmaSchedules.indexForTimestep(timesteps, t);
            stepIndex = i < 0 ? timesteps.length - 1 : i;
        }
    }

    /**
     * Appends {@code newest} to a multistep solver's window of model outputs (oldest first),
     * freeing the one that falls out: diffusers' {@code model_outputs[i] = model_outputs[i + 1]}
     * shift.
     */
    protected static void push(NDArray[] window, NDArray newest) {
        drop(window[0]);
        System.arraycopy(window, 1, window, 0, window.length - 1);
        window[window.length - 1] = newest;
    }

    /**
     * {@code t} as the index into {@code alphas_cumprod} that DDPM and DDIM read at it; refuses a
     * fractional or out-of-range timestep (diffusers would index with it).
     */
    protected static int trainingTimestep(double t, int numTrainTimesteps, String owner) {
        int timestep = (int) t;
        if (timestep != t || timestep < 0 || timestep >= numTrainTimesteps) {
            throw new IllegalArgumentException(
                    owner + " timestep " + t + " is not an integer in [0, num_train_timesteps)");
        }
        return timestep;
    }

    /** The step index of {@code t} as diffusers' {@code _init_step_index} finds it. */
    protected int indexOf(double t) {
        int i = SigmaSchedules.indexForTimestep(timesteps, t);
        if (i < 0) {
            throw new IllegalArgumentException(
                    "timestep "
                            + t
                            + " is not one of this scheduler's timesteps "
                            + java.util.Arrays.toString(timesteps));
        }
        return i;
    }

    protected static void checkSteps(int numInferenceSteps, int max) {
        if (numInferenceSteps < 1 || numInferenceSteps > max) {
            throw new IllegalArgumentException(
                    "num_inference_steps "
                            + numInferenceSteps
                            + " must be in [1, num_train_timesteps "
                            + max
                            + "]");
        }
    }
}
