package sdbatch.pipeline.models.kernels;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch operations that DJL 0.36 has no NDArray method for, reached through small TorchScript
 * modules written here in Java: the module archive (a pickled module object plus its TorchScript
 * source) is assembled in memory and loaded with DJL's {@code JniUtils.loadModule}. Nothing is
 * downloaded or generated outside the JVM, and no Python is involved.
 *
 * <p>A module is loaded once per process, on first use, into a manager of its own; its {@code
 * forward} is then called with tensors and scalars and returns one tensor, registered in the
 * caller's {@link NDScope} and owned by the manager of the first tensor argument.
 */
final class TorchScriptOps {
    private TorchScriptOps() {}

    /**
     * Loads a module class {@code name} whose body (after the standard header) is {@code body}: the
     * {@code forward} definition, indented by two spaces, in serialized TorchScript syntax (dtypes
     * as ScalarType numbers, keyword-only arguments by name).
     */
    static PtSymbolBlock load(String name, String body) {
        String code =
                String.join(
                        "\n",
                        "class " + name + "(Module):",
                        "  __parameters__ = []",
                        "  __buffers__ = []",
                        "  training : bool",
                        body,
                        "");
        try {
            PtNDManager owner =
                    (PtNDManager) Engine.getEngine("PyTorch").newBaseManager(Device.cpu());
            return JniUtils.loadModule(
                    owner, new ByteArrayInputStream(archive(name, code)), false, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A module loaded on first use, once per process; if loading fails, the failure is kept and
     * {@link #get} returns null from then on, so callers fall back to their NDArray path.
     */
    static final class Lazy {
        private final String name;
        private final String body;
        private final BiConsumer<PtSymbolBlock, NDManager> probe;
        private volatile PtSymbolBlock module;
        private volatile String unavailable;

        Lazy(String name, String body) {
            this(name, body, null);
        }

        /**
         * A module whose body is the resource {@code <name>.torchscript} beside this class (the
         * TorchScript source lives in its own file, not in Java strings), with an optional probe as
         * in {@link #Lazy(String, String, BiConsumer)}.
         */
        static Lazy fromResource(String name, BiConsumer<PtSymbolBlock, NDManager> probe) {
            return new Lazy(name, resource(name + ".torchscript"), probe);
        }

        /**
         * As {@link #Lazy(String, String)}, with {@code probe} run once after loading (in its own
         * scope, with a CPU manager of its own that frees whatever it makes): if it throws, the
         * module counts as unavailable. For ops that load on every CPU but fail on the first call
         * where the CPU lacks their kernels (oneDNN's bfloat16 without AVX-512).
         */
        Lazy(String name, String body, BiConsumer<PtSymbolBlock, NDManager> probe) {
            this.name = name;
            this.body = body;
            this.probe = probe;
        }

        /** The module, or null where it could not be loaded. */
        PtSymbolBlock get() {
            PtSymbolBlock m = module;
            if (m != null || unavailable != null) {
                return m;
            }
            synchronized (this) {
                if (module == null && unavailable == null) {
                    try {
                        PtSymbolBlock loaded = load(name, body);
                        if (probe != null) {
                            try (NDScope scope = new NDScope();
                                    NDManager manager =
                                            NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
                                scope.suppressNotUsedWarning();
                                probe.accept(loaded, manager);
                            }
                        }
                        module = loaded;
                    } catch (RuntimeException e) {
                        unavailable = e.toString();
                    }
                }
                return module;
            }
        }

        /** Why loading or the probe failed, or null (loaded, or not tried yet). */
        String unavailableReason() {
            return unavailable;
        }
    }

    /**
     * Calls {@code module.forward} with {@code args} (NDArrays, Longs, Doubles, Booleans, or {@link
     * IValue}s the caller owns) and returns its tensor, in the manager of the first NDArray
     * argument and the current scope.
     */
    static NDArray call(PtSymbolBlock module, Object... args) {
        return callMethod(module, "forward", args);
    }

    /** As {@link #call}, for the module's method {@code method}. */
    static NDArray callMethod(PtSymbolBlock module, String method, Object... args) {
        PtNDManager manager = null;
        for (Object a : args) {
            if (a instanceof NDArray array) {
                manager = (PtNDManager) array.getManager();
                break;
            }
        }
        if (manager == null) {
            throw new IllegalArgumentException("no NDArray argument to " + method);
        }
        IValue out = run(module, method, args);
        try {
            NDArray result = out.toTensor(manager);
            NDScope.register(result);
            return result;
        } finally {
            out.close();
        }
    }

    /**
     * Runs {@code method} and returns its result as an {@link IValue} the caller owns and must
     * close: the way to hold a tensor DJL must not see as an NDArray (bfloat16, or oneDNN's opaque
     * blocked layout), to pass it back in later calls.
     */
    static IValue run(PtSymbolBlock module, String method, Object... args) {
        IValue[] in = new IValue[args.length];
        boolean[] borrowed = new boolean[args.length];
        try {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                if (a instanceof NDArray array) {
                    in[i] = IValue.from((PtNDArray) array);
                } else if (a instanceof Long l) {
                    in[i] = IValue.from(l);
                } else if (a instanceof Double d) {
                    in[i] = IValue.from(d);
                } else if (a instanceof Boolean b) {
                    in[i] = IValue.from(b);
                } else if (a instanceof IValue v) {
                    in[i] = v;
                    borrowed[i] = true;
                } else {
                    throw new IllegalArgumentException("unsupported argument " + a);
                }
            }
            return "forward".equals(method)
                    ? module.forward(in)
                    : IValueUtils.runMethod(module, method, in);
        } finally {
            for (int i = 0; i < in.length; i++) {
                if (in[i] != null && !borrowed[i]) {
                    in[i].close();
                }
            }
        }
    }

    /** A text resource beside this class; a missing one is a build error, not a fallback. */
    static String resource(String file) {
        try (java.io.InputStream in = TorchScriptOps.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException(
                        "missing resource " + file + " beside " + TorchScriptOps.class.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).stripTrailing();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The TorchScript archive (a zip of stored entries, as torch.jit.save writes them). */
    static byte[] archive(String name, String code) {
        // data.pkl, pickle protocol 2: __torch__.<name>() with state {"training": False}.
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        pickle.write(0x80); // PROTO
        pickle.write(2);
        pickle.writeBytes(("c__torch__\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        pickle.write(')'); // EMPTY_TUPLE
        pickle.write(0x81); // NEWOBJ
        pickle.write('}'); // EMPTY_DICT
        pickle.write('('); // MARK
        pickle.write('X'); // BINUNICODE, 4-byte little-endian length
        pickle.writeBytes(new byte[] {8, 0, 0, 0});
        pickle.writeBytes("training".getBytes(StandardCharsets.US_ASCII));
        pickle.write(0x89); // NEWFALSE
        pickle.write('u'); // SETITEMS
        pickle.write('b'); // BUILD
        pickle.write('.'); // STOP
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            stored(z, "m/data.pkl", pickle.toByteArray());
            stored(z, "m/code/__torch__.py", code.getBytes(StandardCharsets.UTF_8));
            stored(z, "m/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(z, "m/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            stored(z, "m/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return zip.toByteArray();
    }

    private static void stored(ZipOutputStream z, String name, byte[] bytes) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(bytes.length);
        e.setCompressedSize(bytes.length);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(bytes);
        z.closeEntry();
    }
}
