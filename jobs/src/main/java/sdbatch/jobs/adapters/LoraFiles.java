package sdbatch.jobs.adapters;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.ModelCache;
import sdbatch.jobs.storage.StorageUris;
import sdbatch.pipeline.lora.LoraException;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.pipeline.lora.LoraWeights;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.LoraRefs;
import sdbatch.schemas.util.Hashes;

/**
 * Resolves LoRA references to files on this host and hashes them (once per JVM and file version).
 *
 * <p>Locations: an absolute path or a URI is used as given; a relative path in a row is resolved
 * against the prompt table's folder (as {@code init_image}); the flags are made absolute on the
 * driver. A local file is read in place; a remote one is copied once per host through the model
 * cache (its folder is the cached entry, so the LoRAs of one remote folder come in one copy).
 *
 * <p>A file that is missing, pickle, LyCORIS or not a LoRA is refused with a {@link LoraException}
 * naming it and the reason ({@link LoraWeights#checkFormat}); the planner makes its row invalid.
 * Keys that name no layer of the model are found only by the pipeline ({@link LoraWeights#check}).
 *
 * @param model the job's model spec (cache root and Hadoop settings)
 * @param tableFolder the prompt table's folder URI (relative row locations), or null
 * @param flagLoras the {@code --lora} values, absolute
 * @param loraDir {@code --lora-dir}, absolute, or null
 */
public record LoraFiles(ModelSpec model, String tableFolder, List<String> flagLoras, String loraDir)
        implements Serializable {
    public LoraFiles {
        flagLoras = List.copyOf(flagLoras);
    }

    private record Hashed(long size, long modified, String sha256, String addnet) {}

    private static final ConcurrentHashMap<Path, Hashed> HASHES = new ConcurrentHashMap<>();

    /**
     * The LoRA set of a row: its {@code loras} cell, or the {@code --lora} flags where it is null,
     * then its prompt's tags resolved against {@code --lora-dir}.
     *
     * @param cell the row's {@code loras}, or null
     * @param tags the prompt's tags ({@link LoraRefs#extractTags})
     * @throws LoraException naming the file and the reason
     */
    public List<Adapters.Lora> resolve(String cell, List<LoraRefs.Ref> tags) {
        List<Adapters.Lora> out = new ArrayList<>();
        List<LoraRefs.Ref> written = new ArrayList<>();
        if (cell != null) {
            written.addAll(LoraRefs.parse(cell));
        } else {
            for (String flag : flagLoras) {
                written.addAll(LoraRefs.parse(flag));
            }
        }
        for (LoraRefs.Ref r : written) {
            out.add(lora(absolute(r.location()), r.weight()));
        }
        for (LoraRefs.Ref tag : tags) {
            if (loraDir == null) {
                throw new LoraException(
                        "prompt tag <lora:"
                                + tag.location()
                                + "> needs --lora-dir (the folder of "
                                + tag.location()
                                + ".safetensors)");
            }
            String dir = loraDir.endsWith("/") ? loraDir : loraDir + "/";
            out.add(lora(dir + tag.location() + ".safetensors", tag.weight()));
        }
        return out;
    }

    /** The pipeline's form of a resolved LoRA: the local file, checked against its hash. */
    public LoraSpec spec(Adapters.Lora lora) {
        return new LoraSpec(local(lora.uri()), lora.sha256(), lora.weight());
    }

    /** {@code location} made absolute against the table's folder (a URI is kept). */
    String absolute(String location) {
        return absolute(tableFolder, location);
    }

    /**
     * {@code location} made absolute against {@code tableFolder} (a URI, an absolute path, or any
     * location when {@code tableFolder} is null, is kept).
     */
    static String absolute(String tableFolder, String location) {
        if (!StorageUris.isLocal(location) || tableFolder == null) {
            return location;
        }
        Path p = StorageUris.localPath(location);
        if (p.isAbsolute()) {
            return p.normalize().toString();
        }
        String base = tableFolder.endsWith("/") ? tableFolder : tableFolder + "/";
        return StorageUris.isLocal(base)
                ? StorageUris.localPath(base).resolve(p).normalize().toString()
                : base + location;
    }

    private Adapters.Lora lora(String uri, double weight) {
        Path file = local(uri);
        LoraWeights.checkFormat(file);
        Hashed h = hashed(file);
        return new Adapters.Lora(uri, h.sha256(), h.addnet(), weight);
    }

    /** The file at {@code uri} on this host (a remote one copied through the model cache). */
    Path local(String uri) {
        if (StorageUris.isLocal(uri)) {
            return StorageUris.localPath(uri).toAbsolutePath().normalize();
        }
        int slash = uri.lastIndexOf('/');
        try {
            Path folder =
                    new ModelCache(model.cacheRoot(), model.hadoop().get())
                            .fetch(uri.substring(0, slash));
            return folder.resolve(uri.substring(slash + 1));
        } catch (IOException e) {
            throw new LoraException(
                    "LoRA " + StorageUris.redact(uri) + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** The file's SHA-256 and A1111's hash, computed once per file version in this JVM. */
    private static Hashed hashed(Path file) {
        try {
            long size = Files.size(file);
            long modified = Files.getLastModifiedTime(file).toMillis();
            Hashed h = HASHES.get(file);
            if (h != null && h.size() == size && h.modified() == modified) {
                return h;
            }
            h = new Hashed(size, modified, Hashes.sha256Hex(file), addnetHash(file));
            HASHES.put(file, h);
            return h;
        } catch (IOException e) {
            throw new LoraException("LoRA " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * A1111's {@code addnet_hash_safetensors}: the SHA-256 of a safetensors file's bytes after its
     * 8-byte header length and the header (the tensors alone), what its {@code Lora hashes} show.
     */
    static String addnetHash(Path file) throws IOException {
        MessageDigest md = Hashes.newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] len = in.readNBytes(8);
            if (len.length < 8) {
                throw new IOException("file is shorter than a safetensors header");
            }
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            try {
                in.skipNBytes(n);
            } catch (java.io.EOFException | IllegalArgumentException e) {
                throw new IOException("safetensors header length " + n + " is past the end");
            }
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
        }
        return Hashes.hex(md.digest());
    }
}
