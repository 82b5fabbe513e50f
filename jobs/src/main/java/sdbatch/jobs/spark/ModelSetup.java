package sdbatch.jobs.spark;

import com.google.gson.JsonElement;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import sdbatch.jobs.adapters.ControlNetFiles;
import sdbatch.jobs.adapters.EmbeddingsFolder;
import sdbatch.jobs.adapters.LoraFiles;
import sdbatch.jobs.adapters.VaeFolder;
import sdbatch.jobs.cli.Flags;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.generate.FamilyColumns;
import sdbatch.jobs.generate.ModelFacts;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.jobs.storage.StorageUris;
import sdbatch.pipeline.PipelineConfig;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.embeddings.TextualInversion;
import sdbatch.schemas.LoraRefs;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * The driver's look at the model, before anything runs: resolve {@code --model} (or write the
 * built-in tiny model), read its configs ({@link PipelineConfig}) and hash its files ({@link
 * ModelContent}) into its {@link ModelFacts} (default size, scheduler, text-encoder layers,
 * identity), and check the job's own settings against them. Any problem is a {@link
 * StartupException} (exit 2) before any generation.
 *
 * <p>The driver never builds the model: loading all weights to read a few configs cost the driver
 * as much native memory as an executor (about 4 GB for SD 1.5, in what is often a small driver
 * pod). A folder whose weights are broken is therefore refused by the executors' load (failing
 * their tasks, see {@link PartitionTask}), not here; its configs and files are checked here.
 *
 * @param spec the model as shipped to executors
 * @param localDir the local folder on the driver
 * @param facts what the driver learned
 * @param contentHash the content hash of the folder, which executors must find in their copy
 * @param embeddings the {@code --embeddings} folder, or null
 * @param vae the {@code --vae} folder, or null (issue 16)
 * @param withoutT5 {@code --without-t5} (issue 19; only an SD3 model loads differently)
 */
public record ModelSetup(
        ModelSpec spec,
        Path localDir,
        ModelFacts facts,
        String contentHash,
        EmbeddingsFolder embeddings,
        VaeFolder vae,
        boolean withoutT5) {

    /**
     * Reads and checks the model of {@code options}, without building it.
     *
     * @throws StartupException for a model that cannot be read, naming it
     */
    public static ModelSetup load(JobOptions options, Configuration hadoop, PrintStream log) {
        ModelSpec spec =
                new ModelSpec(options.model(), options.modelCache(), new HadoopConf(hadoop));
        Path local;
        try {
            local = spec.localDir();
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot read model " + spec.redacted() + ": " + e.getMessage(), e);
        }
        if (spec.builtin()) {
            log.println(
                    "sdbatch: no --model given: using the built-in tiny random-weight model at "
                            + local
                            + " (it draws noise, not pictures; pass --model with a diffusers"
                            + " folder for real images)");
        }
        PipelineConfig config;
        String contentHash;
        try {
            config = PipelineConfig.read(local);
            contentHash = ModelContent.hash(local);
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot read model " + spec.redacted() + " (" + local + "): " + e.getMessage(),
                    e);
        }
        ModelFacts facts;
        try {
            facts = ModelFacts.of(config, spec.normalizedUri(), spec.displayName(), contentHash);
        } catch (RuntimeException e) {
            throw new StartupException(
                    "model " + spec.redacted() + " is not usable: " + e.getMessage(), e);
        }
        facts = facts.withFamily(family(local, spec));
        EmbeddingsFolder embeddings = embeddings(options, spec, config);
        if (embeddings != null) {
            facts = facts.withEmbeddings(embeddings.sha256());
        }
        VaeFolder vae = vae(options, spec, config);
        if (vae != null) {
            facts = facts.withVae(vae.sha256());
        }
        boolean withoutT5 = options.componentFlags().withoutT5();
        if (withoutT5) {
            if (facts.family().isSd3()) {
                facts = facts.withoutT5();
            } else {
                log.println(
                        "sdbatch: "
                                + Flags.WITHOUT_T5
                                + " has no effect on this "
                                + facts.family().family()
                                + " model (it has no T5 encoder)");
            }
        }
        return new ModelSetup(spec, local, facts, contentHash, embeddings, vae, withoutT5);
    }

    /**
     * The model's family from its {@code model_index.json} ({@code _class_name}, and SDXL's {@code
     * force_zeros_for_empty_prompt}): which SDXL/SD3 columns its rows use.
     */
    private static FamilyColumns family(Path local, ModelSpec spec) {
        try {
            ModelIndex index = ModelIndex.load(local);
            JsonElement zeros = index.extra().get("force_zeros_for_empty_prompt");
            return FamilyColumns.of(
                    index.className(),
                    zeros == null || zeros.isJsonNull() ? null : zeros.getAsBoolean());
        } catch (RuntimeException e) {
            throw new StartupException(
                    "model " + spec.redacted() + " is not usable: " + e.getMessage(), e);
        }
    }

    /**
     * The {@code --vae} folder (issue 16), made absolute, read and hashed now: a missing folder,
     * one without {@code config.json} or weights, or a VAE whose latent space does not fit the
     * model (latent channels, scale factor) stops the job (exit 2) before any row is read.
     */
    private static VaeFolder vae(JobOptions options, ModelSpec spec, PipelineConfig config) {
        return folderFlag(
                Flags.VAE,
                options.componentFlags().vae(),
                uri -> {
                    VaeFolder vae = VaeFolder.check(uri, spec);
                    VaeConfig own = config.vae();
                    VaeConfig other = VaeConfig.load(EmbeddingsFolder.local(uri, spec));
                    if (other.latentChannels() != own.latentChannels()
                            || other.vaeScaleFactor() != own.vaeScaleFactor()) {
                        throw new IllegalArgumentException(
                                "its latent space ("
                                        + other.latentChannels()
                                        + " channels, scale factor "
                                        + other.vaeScaleFactor()
                                        + ") is not the model's ("
                                        + own.latentChannels()
                                        + " channels, scale factor "
                                        + own.vaeScaleFactor()
                                        + ")");
                    }
                    return vae;
                });
    }

    /**
     * The {@code --embeddings} folder, made absolute, read and hashed now: a missing folder, a
     * pickle file, a file in no known embedding format, vectors whose width is not the text
     * encoder's or a trigger already in the tokenizer's vocabulary ({@link
     * TextualInversion#tokenizersFor}: the checks the pipeline makes when it loads them, from the
     * model's configs and tokenizer files) stops the job (exit 2) before any row is read, instead
     * of failing every executor's load.
     */
    private static EmbeddingsFolder embeddings(
            JobOptions options, ModelSpec spec, PipelineConfig config) {
        return folderFlag(
                Flags.EMBEDDINGS,
                options.adapterFlags().embeddings(),
                uri -> {
                    Path dir = EmbeddingsFolder.local(uri, spec);
                    TextualInversion.tokenizersFor(config, TextualInversion.loadFolder(dir));
                    return new EmbeddingsFolder(uri, EmbeddingsFolder.hash(dir));
                });
    }

    /** Reads and checks a folder given by a flag, from its absolute location. */
    private interface FolderReader<T> {
        T read(String absoluteUri) throws IOException;
    }

    /**
     * The folder flag {@code flag} ({@code --vae}, {@code --embeddings}) with value {@code value},
     * made absolute and read now; null when the flag is not given.
     *
     * @throws StartupException naming the flag and its value when the folder is missing or bad
     */
    private static <T> T folderFlag(String flag, String value, FolderReader<T> reader) {
        if (value == null) {
            return null;
        }
        String uri = absolute(value);
        try {
            return reader.read(uri);
        } catch (IOException | RuntimeException e) {
            throw new StartupException(flag + " " + value + ": " + e.getMessage(), e);
        }
    }

    /**
     * The job's LoRA reader (issue 18): {@code --lora} values and {@code --lora-dir} made absolute
     * here, row locations against the table's folder. Each {@code --lora} file is checked now: a
     * missing, pickle or non-LoRA file stops the job (exit 2) before any row is read.
     */
    LoraFiles loraFiles(JobOptions options) {
        JobOptions.AdapterFlags f = options.adapterFlags();
        List<String> flags = new java.util.ArrayList<>();
        for (String v : f.loras()) {
            StringBuilder items = new StringBuilder();
            try {
                for (LoraRefs.Ref r : LoraRefs.parse(v)) {
                    items.append(absolute(r.location())).append(':').append(r.weight()).append(';');
                }
            } catch (IllegalArgumentException e) {
                throw new StartupException(Flags.LORA + " " + v + ": " + e.getMessage(), e);
            }
            flags.add(items.toString());
        }
        String dir = f.loraDir() == null ? null : absolute(f.loraDir());
        LoraFiles files = new LoraFiles(spec, tableFolder(options), flags, dir);
        try {
            files.resolve(null, List.of());
        } catch (IllegalArgumentException e) {
            throw new StartupException(Flags.LORA + ": " + e.getMessage(), e);
        }
        return files;
    }

    /**
     * The job's ControlNet reader (issue 18): {@code --controlnet} made absolute here and checked
     * now (a missing or non-ControlNet folder stops the job, exit 2); row locations against the
     * table's folder.
     */
    ControlNetFiles controlNetFiles(JobOptions options) {
        String flag = options.adapterFlags().controlNet();
        ControlNetFiles files =
                new ControlNetFiles(
                        spec, tableFolder(options), flag == null ? null : absolute(flag));
        if (flag != null) {
            try {
                files.sha256(files.flagControlNet());
            } catch (IllegalArgumentException e) {
                throw new StartupException(Flags.CONTROLNET + ": " + e.getMessage(), e);
            }
        }
        return files;
    }

    /** The prompt table's folder (local path or URI), or null without a table. */
    private static String tableFolder(JobOptions options) {
        String input = options.input();
        if (input == null) {
            return null;
        }
        return StorageUris.isLocal(input)
                ? tableFolderOf(StorageUris.localPath(input))
                : input.substring(0, input.lastIndexOf('/'));
    }

    private static String tableFolderOf(Path table) {
        Path abs = table.toAbsolutePath().normalize();
        return java.nio.file.Files.isDirectory(abs) ? abs.toString() : abs.getParent().toString();
    }

    /** A flag's location made absolute against the working folder (a URI is kept). */
    private static String absolute(String location) {
        return StorageUris.isLocal(location)
                ? StorageUris.localPath(location).toAbsolutePath().normalize().toString()
                : location;
    }

    /**
     * The row planner of the job, after checking the sweep flags and the defaults against the
     * model.
     *
     * @throws StartupException naming each bad flag or default
     */
    public RowPlanner planner(JobOptions options) {
        PictureFiles pictures;
        try {
            pictures =
                    PictureFiles.forTable(spec.hadoop(), options.input(), options.maxInputPixels());
        } catch (IOException e) {
            throw new StartupException(
                    "cannot open prompt table " + options.input() + ": " + e.getMessage(), e);
        }
        RowPlanner planner =
                new RowPlanner(facts, options.sweep(), options.width(), options.height())
                        .withPictures(pictures)
                        .withLoraFiles(loraFiles(options))
                        .withControlNetFiles(controlNetFiles(options));
        java.util.List<Problem> problems;
        try {
            problems = planner.checkJob();
        } catch (RuntimeException e) {
            throw new StartupException("model " + spec.redacted() + ": " + e.getMessage(), e);
        }
        if (!problems.isEmpty()) {
            throw new StartupException(
                    String.join("; ", problems.stream().map(Problem::message).toList()));
        }
        return planner;
    }
}
