package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.compute.NativeHeap;
import sdbatch.pipeline.image.ImagePostprocessor;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.ControlNetOutput;
import sdbatch.pipeline.noise.BatchNoise;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.schedulers.Schedulers;

/**
 * The denoising loop, written once, as diffusers' {@code __call__} numbers its steps: 3 encode
 * prompts, 4 prepare timesteps, 5 prepare latents, 6 per-image guidance scales, 7 denoise, 8
 * decode, 9 postprocess. What differs between model families comes through {@link ModelFamily}
 * (text conditioning, the noise predictor), what differs between modes through {@link
 * GenerationMode} (timesteps, first latents, per-step hooks); the loop never switches on either. An
 * adapter beside them ({@link ResidualAdapter}: a batch's ControlNets) gives the noise predictor
 * residuals for its skip connections at each step.
 *
 * <p>Semantics kept exactly: guidance runs iff {@code guidance_scale > 1}, unconditional first in
 * the batched call ({@code [uncond, cond]}), one torch CPU generator per image, each image with its
 * own guidance scale. Every step's temporaries live in a scope closed when the step is done.
 */
final class DenoisingLoop {
    private final ModelFamily family;
    private final AutoencoderKL vae;
    private final int vaeScaleFactor;

    DenoisingLoop(ModelFamily family, AutoencoderKL vae) {
        this.family = family;
        this.vae = vae;
        this.vaeScaleFactor = vae.config().vaeScaleFactor();
    }

    /** diffusers: {@code do_classifier_free_guidance = guidance_scale > 1}. */
    static boolean doClassifierFreeGuidance(ImageRequest r) {
        return r.guidanceScale() > 1.0;
    }

    /**
     * Runs one batch of compatible, checked requests with its own scheduler.
     *
     * @param cancel asked before encoding, before every step and before decoding: once it says
     *     cancelled, no further network call is made
     * @throws CancellationException when {@code cancel} or {@code callback} stops the batch
     */
    List<GeneratedImage> run(
            NDManager run,
            List<ImageRequest> batch,
            Scheduler scheduler,
            GenerationMode mode,
            StepCallback callback,
            CancellationToken cancel) {
        return run(run, batch, scheduler, mode, ResidualAdapter.NONE, callback, cancel);
    }

    /**
     * As {@link #run(NDManager, List, Scheduler, GenerationMode, StepCallback, CancellationToken)}
     * with {@code adapter}'s residuals (a batch's ControlNets) added to the noise predictor's skip
     * connections at every step.
     */
    List<GeneratedImage> run(
            NDManager run,
            List<ImageRequest> batch,
            Scheduler scheduler,
            GenerationMode mode,
            ResidualAdapter adapter,
            StepCallback callback,
            CancellationToken cancel) {
        ImageRequest first = batch.get(0);
        int b = batch.size();
        boolean cfg = doClassifierFreeGuidance(first);
        // A task cancelled while the previous batch ran starts no text encoder call.
        throwIfCancelled(cancel, "before encoding the prompts");
        long t0 = System.nanoTime();
        // 3. Encode input prompts: [uncond..., cond...] when guidance is on.
        Conditioning conditioning = family.encode(run, batch, cfg);
        long t1 = System.nanoTime();

        // 4. Prepare timesteps
        double[] timesteps = mode.timesteps(scheduler, first);

        // 5. Prepare latent variables: one torch CPU generator per image
        int h = first.height() / vaeScaleFactor;
        int w = first.width() / vaeScaleFactor;
        int channels = family.latentChannels();
        BatchNoise noise =
                BatchNoise.ofSeeds(batch.stream().mapToLong(ImageRequest::seed).toArray());
        NDArray latents = mode.firstLatents(run, noise, new Shape(b, channels, h, w), scheduler);

        // 6. Per-image guidance scales, broadcast over C, H, W.
        float[] scales = new float[b];
        for (int i = 0; i < b; i++) {
            scales[i] = batch.get(i).guidanceScale().floatValue();
        }
        NDArray guidance = run.create(scales, new Shape(b, 1, 1, 1));
        // Per-image guidance_rescale, or null when no image asks for it (diffusers skips
        // rescale_noise_cfg at 0).
        NDArray guidanceRescale = cfg ? guidanceRescale(run, batch) : null;

        // 7. Denoising loop
        for (int i = 0; i < timesteps.length; i++) {
            // Between steps: a cancelled task stops after the step it is in, not after the batch.
            throwIfCancelled(cancel, stepsDone(i, timesteps.length));
            latents =
                    step(
                            run,
                            latents,
                            conditioning,
                            new Guidance(cfg, guidance, guidanceRescale),
                            new StepPosition(i, timesteps.length, timesteps[i]),
                            scheduler,
                            mode,
                            adapter,
                            noise);
            latents = mode.afterStep(latents, i, timesteps, scheduler);
            if (!callback.onStep(i, timesteps.length, timesteps[i])) {
                throw new CancellationException(
                        "cancelled after step " + (i + 1) + " of " + timesteps.length);
            }
        }
        throwIfCancelled(cancel, stepsDone(timesteps.length, timesteps.length));
        long t2 = System.nanoTime();

        // 8. Decode: latents / scaling_factor (+ shift_factor) through the VAE decoder
        float[] latentValues = latents.toType(DataType.FLOAT32, false).toFloatArray();
        checkFinite(latentValues, batch);
        NDArray image = decode(latents);
        float[] pixels = image.toType(DataType.FLOAT32, false).toFloatArray();
        long t3 = System.nanoTime();

        // 9. Postprocess: (x / 2 + 0.5).clamp(0, 1), round(x * 255), HWC, then the mode's own
        // (inpainting's optional paste-back)
        GeneratedImage.Timings timings =
                new GeneratedImage.Timings((t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, b);
        String schedulerName = Schedulers.canonicalName(scheduler);
        String samplerName = Schedulers.a1111Name(scheduler);
        List<GeneratedImage> out = new ArrayList<>(b);
        int latentSize = channels * h * w;
        for (int i = 0; i < b; i++) {
            byte[] rgb =
                    mode.postprocess(
                                    i,
                                    ImagePostprocessor.toRgb8(
                                            pixels, i, first.height(), first.width()))
                            .rgb();
            float[] lat = new float[latentSize];
            System.arraycopy(latentValues, i * latentSize, lat, 0, latentSize);
            out.add(
                    new GeneratedImage(
                            batch.get(i),
                            schedulerName,
                            samplerName,
                            first.width(),
                            first.height(),
                            rgb,
                            lat,
                            timings));
        }
        return out;
    }

    private static String stepsDone(int done, int total) {
        return "after step " + done + " of " + total;
    }

    private static void throwIfCancelled(CancellationToken cancel, String where) {
        if (cancel.isCancellationRequested()) {
            throw new CancellationException("cancelled " + where);
        }
    }

    /**
     * Classifier-free guidance of a batch: whether it runs, the per-image scales and the per-image
     * {@code guidance_rescale} fractions (null: none), both {@code [B, 1, 1, 1]}.
     */
    private record Guidance(boolean on, NDArray scales, NDArray rescale) {}

    private static NDArray guidanceRescale(NDManager run, List<ImageRequest> batch) {
        float[] rescale = new float[batch.size()];
        boolean any = false;
        for (int i = 0; i < rescale.length; i++) {
            Double v = batch.get(i).guidanceRescale();
            rescale[i] = v == null ? 0f : v.floatValue();
            any |= rescale[i] > 0;
        }
        return any ? run.create(rescale, new Shape(rescale.length, 1, 1, 1)) : null;
    }

    /**
     * diffusers' {@code rescale_noise_cfg} per image (Lin et al., "Common Diffusion Noise Schedules
     * and Sample Steps are Flawed", section 3.4): the guided prediction rescaled to the standard
     * deviation of the text prediction, mixed in by {@code guidance_rescale}. Images whose fraction
     * is 0 keep the guided prediction exactly.
     */
    // Port of diffusers pipeline_stable_diffusion.rescale_noise_cfg
    static NDArray rescaleNoiseCfg(NDArray noiseCfg, NDArray noisePredText, NDArray rescale) {
        NDArray stdText = std(noisePredText);
        NDArray stdCfg = std(noiseCfg);
        // rescale the results from guidance (fixes overexposure)
        NDArray rescaled = noiseCfg.mul(stdText.div(stdCfg));
        // mix with the original results from guidance by factor guidance_rescale to avoid
        // "plain looking" images
        NDArray r = rescale.toType(noiseCfg.getDataType(), false);
        NDArray mixed = r.mul(rescaled).add(r.neg().add(1f).mul(noiseCfg));
        NDArray on = rescale.gt(0f).broadcast(noiseCfg.getShape());
        return NDArrays.where(on, mixed, noiseCfg);
    }

    /** torch's {@code std(dim=[1, 2, 3], keepdim=True)}: unbiased, over all but the batch axis. */
    private static NDArray std(NDArray x) {
        long rows = x.getShape().get(0);
        long n = x.getShape().size() / rows;
        NDArray flat = x.reshape(rows, n);
        NDArray centered = flat.sub(flat.mean(new int[] {1}, true));
        NDArray std = centered.square().sum(new int[] {1}, true).div((float) (n - 1)).sqrt();
        return std.reshape(rows, 1, 1, 1);
    }

    /** Step {@code index} of {@code total}, at timestep {@code t}. */
    private record StepPosition(int index, int total, double t) {}

    /** One step x_t → x_t-1, its temporaries freed when it returns. */
    private NDArray step(
            NDManager run,
            NDArray latents,
            Conditioning conditioning,
            Guidance guidance,
            StepPosition position,
            Scheduler scheduler,
            GenerationMode mode,
            ResidualAdapter adapter,
            BatchNoise noise) {
        double t = position.t();
        try (NDScope step = new NDScope()) {
            step.suppressNotUsedWarning();
            // expand the latents if we are doing classifier free guidance
            boolean cfg = guidance.on();
            NDArray modelInput = cfg ? NDArrays.concat(new NDList(latents, latents), 0) : latents;
            modelInput = scheduler.scaleModelInput(modelInput, t);
            NDArray timestep = run.create((float) t);
            // ControlNet residuals from the same scaled latents (control_model_input)
            ControlNetOutput residuals =
                    adapter.residuals(
                            position.index(), position.total(), modelInput, timestep, conditioning);
            NDArray noisePred =
                    family.predict(mode.modelInput(modelInput), timestep, conditioning, residuals);
            NDScope.register(noisePred);
            if (cfg) {
                // perform guidance: uncond + scale * (text - uncond), per image
                NDList parts = noisePred.split(2, 0);
                NDArray uncond = parts.get(0);
                NDArray text = parts.get(1);
                noisePred = uncond.add(text.sub(uncond).mul(guidance.scales()));
                if (guidance.rescale() != null) {
                    noisePred = rescaleNoiseCfg(noisePred, text, guidance.rescale());
                }
            }
            // compute the previous noisy sample x_t -> x_t-1
            NDArray next = scheduler.step(noisePred, t, latents, noise).prevSample();
            NDScope.unregister(next);
            if (next != latents) {
                latents.close();
            }
            return next;
        }
    }

    private NDArray decode(NDArray latents) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            float scaling = (float) vae.config().scalingFactor();
            NDArray scaled = latents.toType(vae.dtype(), false).div(scaling);
            // SD3's VAE: latents / scaling_factor + shift_factor (the VAEs of SD 1.x/2.x and SDXL
            // have no shift_factor, and their pipelines add none)
            if (vae.config().shiftFactor() != null) {
                scaled = scaled.add((float) (double) vae.config().shiftFactor());
            }
            boolean release = ComputeOptions.current().releaseFreedHeap();
            if (release) {
                // The loop's freed heap is not the decode's to reuse (NativeHeap says why).
                NativeHeap.releaseFreed();
            }
            NDArray image = vae.decode(scaled);
            NDScope.register(image);
            NDArray out = image.toType(DataType.FLOAT32, false);
            if (out == image) {
                NDScope.unregister(image);
            } else {
                NDScope.unregister(out);
            }
            if (release) {
                NativeHeap.releaseFreed();
            }
            return out;
        }
    }

    private static void checkFinite(float[] latents, List<ImageRequest> batch) {
        for (float v : latents) {
            if (!Float.isFinite(v)) {
                throw new NonFiniteOutputException(
                        "the denoising loop produced NaN or infinite latents for seeds "
                                + batch.stream().map(ImageRequest::seed).toList()
                                + " (refusing to write a black image)");
            }
        }
    }
}
