package sdbatch.pipeline.weights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A bounds-checked reader of the safetensors format that reads each tensor into a buffer it owns.
 *
 * <p>The format (huggingface/safetensors {@code docs}): 8 bytes little-endian header length N, N
 * bytes of UTF-8 JSON mapping each tensor name to {@code {dtype, shape, data_offsets:[begin,end]}}
 * (offsets relative to the byte after the header) plus an optional {@code __metadata__} map, then
 * the data. Nothing is read until a tensor is asked for, so opening a 4 GB UNet costs the header
 * only.
 *
 * <p>Every claim of the header is checked before it is trusted, because a model folder is user
 * input: the header length is bounded, offsets lie inside the file, tensors do not overlap, and
 * each byte count equals its shape times its element size. Each violation is a {@link
 * SafetensorsException} naming the file.
 *
 * <p><b>Why no memory mapping.</b> A model file may be truncated or rewritten while a job that
 * opened it runs (a re-download, a sync, a user fixing a checkpoint). Touching a mapped page past
 * the new end of a file raises SIGBUS, which kills the JVM (inside libtorch, where mapped weights
 * used to be read) or at best surfaces as an {@link InternalError} far from the cause. So tensors
 * are read with positional {@link FileChannel} reads into buffers the caller owns ({@link
 * #readInto}): a short read is an ordinary exception naming the file and the tensor. Each read also
 * re-checks the open file's size and, while the path still names the same file, its modification
 * time against what they were at {@link #open}: a file changed in place (same size, other bytes) is
 * refused rather than mixed into a model, as far as the filesystem's timestamp resolution can tell.
 * A file replaced by a rename is not an error: the open channel keeps reading the old, intact file.
 * The cost: weights are copied into memory libtorch owns instead of being views of the page cache
 * (see {@link StateDictWeights}); 268 MB of float32 loaded and touched in 1.0-3.3 s against 0.4-0.7
 * s mapped, on a busy 2-core machine.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** The upper bound on the JSON header that the reference implementation also enforces. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** The most bytes one positional read asks for. */
    private static final int READ_CHUNK_BYTES = 16 << 20;

    private final Path path;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final FileChannel channel;
    private final long openedSize;
    private final Object openedFileKey;
    private final FileTime openedModified;

    /** One tensor's entry in the header. Offsets are absolute positions in the file. */
    public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {
        /** The number of elements, the product of the shape (1 for a scalar). */
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    private SafetensorsFile(
            Path path,
            Map<String, TensorInfo> tensors,
            Map<String, String> metadata,
            FileChannel channel,
            BasicFileAttributes opened) {
        this.path = path;
        this.tensors = tensors;
        this.metadata = metadata;
        this.channel = channel;
        this.openedSize = opened.size();
        this.openedFileKey = opened.fileKey();
        this.openedModified = opened.lastModifiedTime();
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @throws SafetensorsException if the file is truncated or its header is malformed or lies
     * @throws IOException if the file cannot be read
     */
    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            // Attributes first, size second: a change between the two shows up at the first read.
            BasicFileAttributes opened = Files.readAttributes(path, BasicFileAttributes.class);
            long size = channel.size();
            if (size < 8) {
                throw new SafetensorsException(
                        path, "is " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw new SafetensorsException(
                        path,
                        "declares a header of "
                                + headerLen
                                + " bytes (allowed: 2.."
                                + MAX_HEADER_BYTES
                                + "); this is not a safetensors file or it is corrupt");
            }
            if (8 + headerLen > size) {
                throw new SafetensorsException(
                        path,
                        "is truncated: header of "
                                + headerLen
                                + " bytes does not fit in "
                                + size
                                + " bytes");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(channel, headerBuf, 8);
            String json = new String(headerBuf.array(), StandardCharsets.UTF_8);
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors =
                    SafetensorsHeader.parse(path, json, dataStart, dataLen, metadata);
            if (opened.size() != size) {
                throw new SafetensorsException(
                        path, "changed size while it was being opened; is it still being written?");
            }
            return new SafetensorsFile(
                    path,
                    Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata),
                    channel,
                    opened);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position)
            throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                break;
            }
            pos += n;
        }
        buf.flip();
    }

    /** The file this reader maps. */
    public Path path() {
        return path;
    }

    /** Tensor entries in header order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The entry for {@code name}, or null. */
    public TensorInfo info(String name) {
        return tensors.get(name);
    }

    /**
     * The raw little-endian bytes of one tensor, read now into a new direct buffer of its own
     * (read-only).
     *
     * @throws SafetensorsException naming the file and the tensor if the file was truncated or
     *     modified since {@link #open}, or the tensor is 2 GiB or more
     * @throws UncheckedIOException if the read fails
     */
    public ByteBuffer bytes(String name) {
        return readInto(name, ByteBuffer.allocateDirect(Math.toIntExact(byteCount(name))));
    }

    /**
     * Reads one tensor's raw bytes into {@code target} from its index 0, so that one buffer can
     * serve a whole model load, and returns a read-only little-endian view of exactly those bytes
     * (valid until {@code target} is reused).
     *
     * @throws IllegalArgumentException if {@code target} is smaller than the tensor
     * @throws SafetensorsException naming the file and the tensor if the file was truncated or
     *     modified since {@link #open}
     * @throws UncheckedIOException if the read fails
     */
    public ByteBuffer readInto(String name, ByteBuffer target) {
        TensorInfo info = tensors.get(name);
        long len = byteCount(name);
        if (target.capacity() < len) {
            throw new IllegalArgumentException(
                    "buffer of " + target.capacity() + " bytes cannot hold tensor '" + name + "'");
        }
        if (!channel.isOpen()) {
            throw new IllegalStateException(path + " is closed; cannot read tensor '" + name + "'");
        }
        ByteBuffer out = target.duplicate();
        out.clear();
        try {
            checkUnchanged(name);
            long pos = info.begin();
            int done = 0;
            while (done < len) {
                // Bounded reads: a heap target costs a JDK temporary direct buffer per read, kept
                // per thread, so it must stay small.
                out.limit((int) Math.min(len, done + READ_CHUNK_BYTES)).position(done);
                int n = channel.read(out, pos);
                if (n < 0) {
                    throw new SafetensorsException(
                            path,
                            "was truncated while open: tensor '"
                                    + name
                                    + "' needs bytes up to "
                                    + info.end()
                                    + " but the file now ends at "
                                    + pos
                                    + " (it was "
                                    + openedSize
                                    + " bytes when opened)");
                }
                pos += n;
                done += n;
            }
            // A write racing this read shows up here rather than as a silently mixed tensor.
            checkUnchanged(name);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    path + ": cannot read tensor '" + name + "': " + e.getMessage(), e);
        }
        out.limit((int) len).position(0);
        // asReadOnlyBuffer() resets the byte order to big-endian: set it last.
        return out.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The size of a tensor's data in bytes; at most what one Java buffer can hold. */
    public long byteCount(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
        }
        long len = info.end() - info.begin();
        if (len > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(
                    path, "tensor '" + name + "' is " + len + " bytes, too large for one buffer");
        }
        return len;
    }

    /** Refuses to read from a file whose size or (same file) modification time moved since open. */
    private void checkUnchanged(String name) throws IOException {
        long size = channel.size();
        if (size != openedSize) {
            throw new SafetensorsException(
                    path,
                    "changed from "
                            + openedSize
                            + " to "
                            + size
                            + " bytes since it was opened (truncated or rewritten under a running"
                            + " job) while reading tensor '"
                            + name
                            + "'; reload the model");
        }
        BasicFileAttributes now;
        try {
            now = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return; // Deleted: the open channel still reads the intact file.
        }
        if (Objects.equals(now.fileKey(), openedFileKey)
                && !now.lastModifiedTime().equals(openedModified)) {
            throw new SafetensorsException(
                    path,
                    "was modified in place since it was opened (modification time "
                            + openedModified
                            + " -> "
                            + now.lastModifiedTime()
                            + ") while reading tensor '"
                            + name
                            + "'; reload the model");
        }
    }

    /** Reads a tensor of any float dtype, converted to float32, into a Java array. */
    public float[] readFloats(String name) {
        ByteBuffer b = readToHeap(name);
        TensorInfo info = tensors.get(name);
        int n = Math.toIntExact(info.elementCount());
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = info.dtype().readAsFloat(b, i);
        }
        return out;
    }

    /**
     * One tensor's bytes in a heap buffer, for the readers that copy the values out (so no direct
     * memory is needed).
     *
     * @throws IllegalArgumentException naming the file when it has no tensor {@code name}
     */
    private ByteBuffer readToHeap(String name) {
        return readInto(name, ByteBuffer.allocate(Math.toIntExact(byteCount(name))));
    }

    /** Reads an integer tensor (I8..I64, U8) into a Java long array. */
    public long[] readLongs(String name) {
        ByteBuffer b = readToHeap(name);
        TensorInfo info = tensors.get(name);
        int n = Math.toIntExact(info.elementCount());
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = info.dtype().readAsLong(b, i);
        }
        return out;
    }

    /** Closes the file; buffers already returned stay valid (they are copies). */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot close: " + e.getMessage(), e);
        }
    }
}
