package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The weights of one component read from its safetensors file(s), checked against what the model
 * asks for.
 *
 * <p>Loading is two passes over the model constructor. {@link #checkShapes} runs it against the
 * safetensors headers only: each parameter it asks for is a {@link ShapeOnlyArray} (a shape, no
 * data), and one {@link ModelLoadException} lists every missing, unexpected and misshapen key, so a
 * user fixes a checkpoint in one round, before a single tensor is read or allocated. Only then does
 * the real pass ({@link #get}) read each tensor into the given manager (the model's; device of that
 * manager), converted to the compute dtype. No stand-in is ever allocated for a bad key: with a
 * config that asks for absurd shapes, zero tensors of the asked shape used to exhaust memory before
 * the mismatch could be reported.
 */
public final class StateDictWeights implements Weights, AutoCloseable {

    /** Extensions of pickle-based checkpoints, refused because unpickling can execute code. */
    public static final List<String> PICKLE_EXTENSIONS = List.of(".bin", ".ckpt", ".pt", ".pth");

    private final String component;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> index = new LinkedHashMap<>();
    private final NDManager manager;
    private final DataType dtype;
    private final Set<String> taken = new TreeSet<>();
    private final List<String> missing = new ArrayList<>();
    private final List<String> misshapen = new ArrayList<>();
    private Predicate<String> ignoredUnexpected = k -> false;
    private ByteBuffer scratch;

    private StateDictWeights(
            String component, List<SafetensorsFile> files, NDManager manager, DataType dtype) {
        this.component = component;
        this.files = files;
        this.manager = manager;
        this.dtype = dtype;
        for (SafetensorsFile f : files) {
            for (String k : f.tensors().keySet()) {
                if (index.putIfAbsent(k, f) != null) {
                    throw new ModelLoadException(
                            component + ": tensor '" + k + "' appears in more than one file");
                }
            }
        }
    }

    /**
     * Opens every {@code *.safetensors} file of a component folder (sharded checkpoints have
     * several). A folder with only pickle files is refused with the reason and the fix.
     */
    public static StateDictWeights open(Path componentDir, NDManager manager, DataType dtype)
            throws IOException {
        if (!Files.isDirectory(componentDir)) {
            throw new ModelLoadException("component folder " + componentDir + " does not exist");
        }
        List<Path> safetensors = new ArrayList<>();
        List<Path> pickles = new ArrayList<>();
        try (Stream<Path> s = Files.list(componentDir)) {
            s.sorted()
                    .forEach(
                            p -> {
                                String n = p.getFileName().toString();
                                if (n.endsWith(".safetensors")) {
                                    safetensors.add(p);
                                } else if (PICKLE_EXTENSIONS.stream().anyMatch(n::endsWith)) {
                                    pickles.add(p);
                                }
                            });
        }
        if (safetensors.isEmpty()) {
            if (!pickles.isEmpty()) {
                throw new ModelLoadException(
                        componentDir
                                + " holds only pickle-based weights "
                                + pickles.stream().map(p -> p.getFileName().toString()).toList()
                                + ". sdbatch refuses them because loading a pickle can execute"
                                + " arbitrary code. Convert the model to safetensors (for example"
                                + " with diffusers: pipe.save_pretrained(dir,"
                                + " safe_serialization=True)) and point sdbatch at that folder.");
            }
            throw new ModelLoadException(componentDir + " holds no .safetensors weights file");
        }
        // A folder may hold both full and variant files (diffusion_pytorch_model.fp16.safetensors):
        // prefer the plain name, as diffusers does without a variant argument.
        List<Path> chosen = chooseVariant(safetensors);
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (Path p : chosen) {
                opened.add(SafetensorsFile.open(p));
            }
        } catch (IOException | RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
        return new StateDictWeights(componentDir.toString(), opened, manager, dtype);
    }

    private static List<Path> chooseVariant(List<Path> files) {
        List<Path> plain =
                files.stream()
                        .filter(
                                p -> {
                                    String n = p.getFileName().toString();
                                    String stem =
                                            n.substring(0, n.length() - ".safetensors".length());
                                    return !stem.contains(".");
                                })
                        .toList();
        return plain.isEmpty() ? files : plain;
    }

    /**
     * Keys matching this predicate are not reported as unexpected (buffers such as position_ids).
     */
    public StateDictWeights ignoreUnexpected(Predicate<String> predicate) {
        this.ignoredUnexpected = predicate;
        return this;
    }

    /**
     * Runs {@code build} (a model constructor) against the checkpoint headers only, before any
     * tensor is read or allocated: every parameter it asks for is checked against the header of its
     * file and handed over as a data-less {@link ShapeOnlyArray}, and arrays the constructor makes
     * itself live in a throwaway sub-manager closed here. The real pass ({@link #get}) may run only
     * after this returns.
     *
     * @throws ModelLoadException listing every missing, unexpected and misshapen key, each with the
     *     file, the checkpoint's shape and the shape the config implies
     */
    public void checkShapes(Function<Weights, ?> build) {
        try (NDManager probe = manager.newSubManager()) {
            probe.setName("shape check " + component);
            build.apply(new HeaderShapeWeights(this, probe));
        }
        finish();
        taken.clear();
    }

    /**
     * Records an ask against the headers: null when the checkpoint has the key with this shape,
     * else the problem (also listed for {@link #finish()}).
     */
    String checkAsk(String key, Shape expected) {
        SafetensorsFile file = index.get(key);
        taken.add(key);
        if (file == null) {
            String problem = key + " " + expected;
            missing.add(problem);
            return "missing " + problem;
        }
        Shape actual = new Shape(file.info(key).shape());
        if (!actual.equals(expected)) {
            String problem =
                    key
                            + ": checkpoint "
                            + actual
                            + ", config implies "
                            + expected
                            + " ("
                            + file.path().getFileName()
                            + ")";
            misshapen.add(problem);
            return problem;
        }
        return null;
    }

    DataType dtype() {
        return dtype;
    }

    /**
     * Reads one tensor into the model's manager. Call {@link #checkShapes} first: a key missing or
     * misshapen here (a constructor that asks differently the second time) is an immediate error,
     * never a stand-in allocation.
     */
    @Override
    public NDArray get(String key, Shape expected) {
        String problem = checkAsk(key, expected);
        if (problem != null) {
            throw new ModelLoadException(
                    component + ": weights do not match config.json: " + problem);
        }
        SafetensorsFile file = index.get(key);
        return read(file, file.info(key));
    }

    /** Creates an NDArray from a safetensors tensor, converting to {@code dtype}. */
    public static NDArray toNDArray(
            SafetensorsFile file,
            SafetensorsFile.TensorInfo info,
            NDManager manager,
            DataType dtype) {
        ByteBuffer target = ByteBuffer.allocateDirect(Math.toIntExact(file.byteCount(info.name())));
        return toNDArray(file, info, manager, dtype, target);
    }

    /** Reads the tensor through the load's one reusable buffer (grown to the largest tensor). */
    private NDArray read(SafetensorsFile file, SafetensorsFile.TensorInfo info) {
        long len = file.byteCount(info.name());
        if (scratch == null || scratch.capacity() < len) {
            // Growth at least doubles, so the garbage left behind stays below the largest tensor.
            long grown = scratch == null ? len : Math.max(len, 2L * scratch.capacity());
            scratch = ByteBuffer.allocateDirect((int) Math.min(grown, Integer.MAX_VALUE - 8));
        }
        return toNDArray(file, info, manager, dtype, scratch);
    }

    /**
     * Reads one tensor through {@code target} into an array whose memory libtorch owns. DJL wraps a
     * direct buffer without copying (and keeps it alive with the array), so an array made straight
     * from the read would hold the weights in Java direct memory, where they count against {@code
     * -XX:MaxDirectMemorySize} (by default the heap size) instead of the native memory the
     * deployment budgets; a wrap is therefore copied (or converted) and closed. The same holds for
     * the memory-mapped file this reader used to hand over, whose pages a truncation would have
     * turned into a SIGBUS inside libtorch.
     */
    private static NDArray toNDArray(
            SafetensorsFile file,
            SafetensorsFile.TensorInfo info,
            NDManager manager,
            DataType dtype,
            ByteBuffer target) {
        Shape shape = new Shape(info.shape());
        if (info.dtype() == Dtype.BF16) {
            // DJL 0.36's PyTorch engine aborts the JVM when it creates or casts to a bfloat16
            // array, so bf16 checkpoints are widened to float32 here, exactly (bf16 is the top
            // half of a float32), before libtorch sees them.
            float[] widened = file.readFloats(info.name());
            NDArray f32 = manager.create(widened, shape);
            NDArray owned = dtype == DataType.FLOAT32 ? f32.duplicate() : f32.toType(dtype, false);
            f32.close();
            return owned;
        }
        DataType stored =
                switch (info.dtype()) {
                    case F64 -> DataType.FLOAT64;
                    case F32 -> DataType.FLOAT32;
                    case F16 -> DataType.FLOAT16;
                    case BF16 -> DataType.BFLOAT16;
                    case I64 -> DataType.INT64;
                    case I32 -> DataType.INT32;
                    case I16 -> DataType.INT16;
                    case I8 -> DataType.INT8;
                    case U8 -> DataType.UINT8;
                    case BOOL -> DataType.BOOLEAN;
                };
        NDArray raw = manager.create(file.readInto(info.name(), target), shape, stored);
        if (stored == dtype && raw.getDevice().isGpu()) {
            return raw; // Already copied to the device: the buffer is not referenced.
        }
        NDArray owned = stored == dtype ? raw.duplicate() : raw.toType(dtype, false);
        raw.close();
        return owned;
    }

    @Override
    public boolean contains(String key) {
        return index.containsKey(key);
    }

    @Override
    public Set<String> keys() {
        return new TreeSet<>(index.keySet());
    }

    /**
     * Checks that every tensor the model asked for was there with the right shape and that the
     * checkpoint holds nothing the model did not ask for.
     *
     * @throws ModelLoadException listing every missing, unexpected and misshapen key
     */
    public void finish() {
        List<String> unexpected = new ArrayList<>();
        for (String k : index.keySet()) {
            if (!taken.contains(k) && !ignoredUnexpected.test(k)) {
                unexpected.add(k);
            }
        }
        if (missing.isEmpty() && unexpected.isEmpty() && misshapen.isEmpty()) {
            return;
        }
        StringBuilder sb =
                new StringBuilder(component).append(": weights do not match config.json");
        appendList(sb, "missing", missing);
        appendList(sb, "unexpected", unexpected);
        appendList(sb, "shape mismatch", misshapen);
        throw new ModelLoadException(sb.toString());
    }

    private static void appendList(StringBuilder sb, String what, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        sb.append("\n  ").append(keys.size()).append(' ').append(what).append(':');
        int shown = 0;
        for (String k : keys) {
            if (shown++ == 50) {
                sb.append("\n    ... and ").append(keys.size() - 50).append(" more");
                break;
            }
            sb.append("\n    ").append(k);
        }
    }

    @Override
    public void close() {
        scratch = null;
        files.forEach(SafetensorsFile::close);
    }
}
