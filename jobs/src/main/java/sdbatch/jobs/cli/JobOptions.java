package sdbatch.jobs.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdbatch.jobs.Redaction;
import sdbatch.schemas.sweep.SweepSpec;

/**
 * The parsed command line of one {@code sdbatch} command: parsed once on the driver, never
 * serialized to executors (they get small specs derived from it).
 *
 * <p><b>Precedence.</b> A generation parameter comes from, first to last: the row's own column (a
 * non-null {@code seed}, {@code steps}, {@code guidance_scale}, {@code scheduler}, {@code width},
 * {@code height}, …), then the flag ({@code --seeds}/{@code --images-per-prompt}, {@code --steps},
 * {@code --guidance}, {@code --schedulers}, {@code --width}, {@code --height}; a list-valued flag
 * sweeps: the row is expanded over the cross product of the lists of the columns it leaves null),
 * then the model's default (size = UNet {@code sample_size} × the VAE scale factor, scheduler = the
 * model folder's {@code scheduler/scheduler_config.json}, steps, guidance and img2img strength =
 * the defaults of diffusers' pipeline of the model's family: 50, 7.5 and 0.8 for SD 1.x/2.x, 50,
 * 5.0 and 0.3 for SDXL, 28 and 7.0 for SD3). A null field here means "no flag given".
 *
 * @param command the subcommand ({@code generate}, {@code validate}, {@code tokenize}, {@code
 *     make-tiny-model})
 * @param help whether {@code --help} was given (then nothing else is checked)
 * @param model model folder or URI; null: the built-in tiny random-weight model
 * @param input prompt table path or URI
 * @param output output root path or URI
 * @param master Spark master URL
 * @param conf {@code --conf} settings in the order given (later wins)
 * @param sweep the sweep flags ({@code --seeds}, {@code --images-per-prompt}, {@code --guidance},
 *     {@code --steps}, {@code --schedulers}, {@code --strengths}, {@code --guidance-rescale}),
 *     parsed by schemas' {@link SweepSpec}; {@link SweepSpec#NONE} when none is given
 * @param width {@code --width}, null when not given
 * @param height {@code --height}, null when not given
 * @param resume {@code --resume}
 * @param batchSize {@code --batch-size}
 * @param device {@code --device}
 * @param dtype {@code --dtype}
 * @param modelCache {@code --model-cache}, null: under the executor's local directory
 * @param maxFailures {@code --max-failures}, -1 for no limit
 * @param partitions {@code --partitions}, null: Spark's default parallelism
 * @param progressIntervalSeconds {@code --progress-interval}
 * @param json {@code tokenize --json}
 * @param file {@code tokenize --file}
 * @param prompts {@code tokenize}'s positional prompts
 * @param variant {@code make-tiny-model --variant}
 * @param seed {@code make-tiny-model --seed}
 * @param verbose {@code --verbose}: Spark's and libtorch's full logs (see {@link Logs})
 * @param args the raw arguments (use {@link Redaction#args} before showing them)
 * @param maxInputPixels {@code --max-input-pixels}: the largest init picture or mask accepted
 * @param adapterFlags {@code --lora} (in order), {@code --lora-dir}, {@code --embeddings}, {@code
 *     --controlnet}
 * @param componentFlags {@code --vae} and {@code --without-t5} (issues 16, 19)
 * @param maxSequenceLength {@code tokenize --max-sequence-length}: the T5 length of an SD3 model's
 *     {@code tokenizer_3} ids, null when not given (then 256, the column's default)
 */
public record JobOptions(
        String command,
        boolean help,
        String model,
        String input,
        String output,
        String master,
        Map<String, String> conf,
        SweepSpec sweep,
        Integer width,
        Integer height,
        boolean resume,
        int batchSize,
        Device device,
        String dtype,
        String modelCache,
        long maxFailures,
        Integer partitions,
        int progressIntervalSeconds,
        boolean json,
        String file,
        List<String> prompts,
        String variant,
        long seed,
        boolean verbose,
        List<String> args,
        long maxInputPixels,
        AdapterFlags adapterFlags,
        ComponentFlags componentFlags,
        Integer maxSequenceLength) {

    /**
     * The flags that change a model component for the whole job (issues 16, 19); both are part of
     * the model identity.
     *
     * @param vae {@code --vae DIR_OR_URI}: a VAE folder used instead of the model's, or null
     * @param withoutT5 {@code --without-t5}: SD3 loads no T5 encoder
     */
    public record ComponentFlags(String vae, boolean withoutT5) {}

    /**
     * The LoRA and embedding flags (issue 18).
     *
     * @param loras every {@code --lora URI[:weight]}, in order (for rows whose {@code loras} is
     *     null)
     * @param loraDir {@code --lora-dir}, or null
     * @param embeddings {@code --embeddings}, or null
     * @param controlNet {@code --controlnet}, or null
     */
    public record AdapterFlags(
            List<String> loras, String loraDir, String embeddings, String controlNet) {
        public AdapterFlags {
            loras = List.copyOf(loras);
        }
    }

    /** {@code --device}. */
    public enum Device {
        /** The GPU Spark assigned to the task if any, else the CPU. */
        AUTO,
        /** The CPU, even when Spark assigned a GPU (whose address is still recorded). */
        CPU,
        /** The assigned GPU; a task without one fails to start. */
        GPU;

        static Device parse(String value) {
            try {
                return valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new StartupException(
                        Flags.DEVICE + " must be auto, cpu or gpu, got '" + value + "'");
            }
        }
    }

    /** The subcommands. */
    public static final List<String> COMMANDS =
            List.of("generate", "validate", "tokenize", "make-tiny-model", "doctor");

    /**
     * Parses {@code sdbatch <command> [flags]} ({@link JobOptionsParser}). Flags take their value
     * as the next argument or after {@code =}.
     *
     * @throws StartupException (exit 2) naming the flag and value for anything wrong
     */
    public static JobOptions parse(List<String> argv) {
        return JobOptionsParser.parse(argv);
    }
}
