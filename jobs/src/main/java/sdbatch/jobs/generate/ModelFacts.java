package sdbatch.jobs.generate;

import com.google.gson.JsonObject;
import java.io.Serializable;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import sdbatch.pipeline.PipelineConfig;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.schedulers.SchedulerFit;
import sdbatch.pipeline.schedulers.Schedulers;
import sdbatch.schemas.SchedulerNames;
import sdbatch.schemas.util.RecordCopier;
import sdbatch.schemas.validate.RequestDefaults;

/**
 * What the driver learned from the model folder's configs and files (it never builds the model),
 * small and serializable, so executors can validate and expand rows without loading anything.
 *
 * <p><b>Model identity</b> (hashed into every image id and written to the {@code model} column):
 * {@code <normalized model URI>#sha256=<content hash>}, the URI normalized by {@code
 * StorageUris.normalize} (lower-case scheme and host, no credentials, no trailing slash; a local
 * folder as {@code file:/absolute/path}), and the SHA-256 of every file of the model folder (text
 * encoder, UNet, VAE, tokenizer, configs; see {@code ModelContent}). The URI keeps two copies of
 * one checkpoint under different names apart in the metadata; the hash makes any retrained
 * component (even one of the same shape) new images. Moving a model folder therefore changes its
 * image ids ({@code --resume} regenerates). Executors refuse a model copy whose content hash is not
 * the driver's.
 *
 * @param identity the model identity described above
 * @param name the model's display name (the folder's last path segment), for the PNG infotext
 * @param hash A1111's "Model hash" of the UNet for the PNG infotext ({@link
 *     StableDiffusionPipeline#modelHash()})
 * @param defaultSize default width and height ({@link StableDiffusionPipeline#defaultSize()})
 * @param scheduler the folder's scheduler, as a canonical alias
 * @param schedulerConfigJson the folder's {@code scheduler_config.json} as JSON
 * @param textEncoderLayers hidden layers of the text encoder
 * @param maxPixels the pipeline's pixel limit
 * @param family which SDXL/SD3 columns the model's family uses ({@link FamilyColumns}, from its
 *     {@code model_index.json})
 * @param call the defaults of the family's diffusers pipeline {@code __call__} ({@link
 *     CallDefaults}): a row that names no steps, guidance scale or strength gets these, so an SDXL
 *     row without a guidance scale is diffusers' SDXL image at 5.0, not SD's 7.5
 */
public record ModelFacts(
        String identity,
        String name,
        String hash,
        int defaultSize,
        String scheduler,
        String schedulerConfigJson,
        int textEncoderLayers,
        long maxPixels,
        FamilyColumns family,
        CallDefaults call)
        implements Serializable {

    /**
     * diffusers' {@code __call__} defaults of a family's pipelines ({@link
     * PipelineConfig#defaultSteps}, {@link PipelineConfig#defaultGuidanceScale}, {@link
     * PipelineConfig#defaultImageToImageStrength}).
     *
     * @param steps {@code num_inference_steps}
     * @param guidanceScale {@code guidance_scale}
     * @param img2imgStrength the img2img pipeline's {@code strength}
     */
    public record CallDefaults(int steps, double guidanceScale, double img2imgStrength)
            implements Serializable {
        /**
         * SD 1.x/2.x's: {@code StableDiffusionPipeline} and {@code StableDiffusionImg2ImgPipeline}.
         */
        public static final CallDefaults SD =
                new CallDefaults(
                        RequestDefaults.STEPS_DEFAULT,
                        RequestDefaults.GUIDANCE_SCALE_DEFAULT,
                        RequestDefaults.IMG2IMG_STRENGTH_DEFAULT);

        /** The defaults of the family of a folder with these configs. */
        public static CallDefaults of(PipelineConfig config) {
            return new CallDefaults(
                    config.defaultSteps(),
                    config.defaultGuidanceScale(),
                    config.defaultImageToImageStrength());
        }
    }

    /** Checks presence. */
    public ModelFacts {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(schedulerConfigJson, "schedulerConfigJson");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(call, "call");
    }

    /**
     * The facts of a model folder, from its configs alone.
     *
     * @param config the folder's configs ({@link PipelineConfig#read})
     * @param normalizedUri the model URI, normalized (see class doc), or {@code builtin:<name>}
     * @param name display name
     * @param contentHash the folder's content hash ({@code ModelContent.hash})
     * @throws IllegalArgumentException when the folder's scheduler is not supported
     */
    public static ModelFacts of(
            PipelineConfig config, String normalizedUri, String name, String contentHash) {
        SchedulerConfig folder = config.schedulerConfig();
        String alias =
                SchedulerNames.canonical(folder.className())
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "the model's scheduler "
                                                        + folder.className()
                                                        + " is not supported; known: "
                                                        + Schedulers.knownNames()));
        return new ModelFacts(
                identity(normalizedUri, contentHash),
                name,
                config.modelHash(),
                config.defaultSize(),
                alias,
                folder.toJson(),
                config.textEncoderLayers(),
                // The limit of the executors' pipelines (ExecutorPipelines.options).
                PipelineOptions.MAX_PIXELS_DEFAULT,
                FamilyColumns.SD,
                CallDefaults.of(config));
    }

    /**
     * These facts for the model with the textual-inversion embeddings of content hash {@code
     * sha256} loaded (issue 18): the identity names them, so their images get other ids.
     */
    public ModelFacts withEmbeddings(String sha256) {
        return withIdentity(
                identity + "+embeddings#sha256=" + Objects.requireNonNull(sha256, "sha256"));
    }

    /**
     * These facts for the model with its VAE replaced by the folder of content hash {@code sha256}
     * ({@code --vae}, issue 16): the identity names it, so its images get other ids.
     */
    public ModelFacts withVae(String sha256) {
        return withIdentity(identity + "+vae#sha256=" + Objects.requireNonNull(sha256, "sha256"));
    }

    /**
     * These facts for the model loaded without its T5 encoder ({@code --without-t5}, issue 19): an
     * SD3 model then gives other images, so the identity says so.
     */
    public ModelFacts withoutT5() {
        return withIdentity(identity + "+without-t5");
    }

    /** These facts for a model whose family is {@code f}. */
    public ModelFacts withFamily(FamilyColumns f) {
        return COPIER.copy(this, c -> c.family = f);
    }

    private ModelFacts withIdentity(String newIdentity) {
        return COPIER.copy(this, c -> c.identity = newIdentity);
    }

    /**
     * Copies with what the job adds to the folder's facts (the identity, the family), through
     * {@link Fields} (checked to mirror the components).
     */
    private static final RecordCopier<ModelFacts, Fields> COPIER =
            RecordCopier.of(MethodHandles.lookup(), ModelFacts.class, Fields.class);

    /** Facts being copied with a change: one mutable field per component, same name and type. */
    private static final class Fields {
        String identity;
        String name;
        String hash;
        int defaultSize;
        String scheduler;
        String schedulerConfigJson;
        int textEncoderLayers;
        long maxPixels;
        FamilyColumns family;
        CallDefaults call;
    }

    /** The model identity of a folder at {@code normalizedUri} with this content hash. */
    public static String identity(String normalizedUri, String contentHash) {
        return normalizedUri + "#sha256=" + Objects.requireNonNull(contentHash, "contentHash");
    }

    /**
     * The validation defaults for this model and the job's size flags: the steps, guidance and
     * img2img strength defaults of the family's diffusers pipeline ({@link #call}), eta 0; size =
     * the flag, else the model's; the pipeline's pixel limit; scheduler names resolved and
     * overrides checked by the pipeline's {@link Schedulers} registry and {@link
     * SchedulerConfig#withOverrides}, so a row is invalid exactly when the pipeline would refuse
     * it.
     *
     * @param widthFlag {@code --width}, or null
     * @param heightFlag {@code --height}, or null
     */
    public RequestDefaults defaults(Integer widthFlag, Integer heightFlag) {
        SchedulerConfig folder = SchedulerConfig.parse(schedulerConfigJson);
        List<String> known = new ArrayList<>(Schedulers.knownNames());
        known.add("default");
        RequestDefaults d =
                RequestDefaults.forModel(
                                scheduler,
                                widthFlag != null ? widthFlag : defaultSize,
                                heightFlag != null ? heightFlag : defaultSize,
                                textEncoderLayers)
                        .withCallDefaults(
                                call.steps(), call.guidanceScale(), call.img2imgStrength())
                        .withMaxPixels(maxPixels)
                        .withSchedulers(
                                name -> resolveScheduler(name, folder),
                                known,
                                (alias, overrides) -> checkOverrides(alias, overrides, folder));
        // The pipeline's own rule (StableDiffusionPipeline.checkInputs), so a row the pipeline
        // would refuse (a noise-prediction scheduler on SD3, flow matching on SD 1.x/2.x or
        // SDXL) is invalid here, naming the schedulers that fit.
        boolean flowMatching = family.isSd3();
        d =
                d.withSchedulerFit(
                        alias -> Optional.ofNullable(SchedulerFit.misfit(alias, flowMatching)));
        return d;
    }

    /**
     * The canonical alias of a scheduler name the pipeline accepts ({@code default} = the
     * folder's), or empty.
     */
    static Optional<String> resolveScheduler(String name, SchedulerConfig folder) {
        if (name == null || name.isBlank()) {
            return Optional.empty();
        }
        String n = name.strip();
        if (n.toLowerCase(Locale.ROOT).equals("default")) {
            return SchedulerNames.canonical(folder.className());
        }
        try {
            Schedulers.canonicalName(n, folder);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return SchedulerNames.canonical(n);
    }

    private static Optional<String> checkOverrides(
            String alias, JsonObject overrides, SchedulerConfig folder) {
        try {
            Schedulers.resolveConfig(alias, folder, overrides.toString());
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }
}
