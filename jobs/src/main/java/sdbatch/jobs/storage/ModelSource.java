package sdbatch.jobs.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.EtagSource;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import sdbatch.schemas.util.Hashes;

/**
 * A model folder at its source, read through Hadoop's file system for its URI's scheme ({@code
 * file:} included): its listing (what says whether the source changed since a copy was made), its
 * {@value ModelManifest#FILE_NAME} if it has one (checked against the listing's sizes), and the
 * copy of its files into a local folder, each file's size checked against the listing and its
 * SHA-256 computed while copying (and checked against the manifest's). The fetching half of {@link
 * ModelCache}, which owns the local layout, the locks and the decision to copy.
 *
 * @param fs the source's file system
 * @param path the source folder
 * @param redacted the source's URI for messages ({@link StorageUris#redact})
 * @param listing every file under the folder by relative path (with '/'), sorted; never empty
 * @param manifest the folder's manifest, or null when it has none
 */
record ModelSource(
        FileSystem fs,
        org.apache.hadoop.fs.Path path,
        String redacted,
        Map<String, ModelSource.SourceFile> listing,
        ModelManifest manifest) {

    /**
     * One file of the source listing: what says whether the source changed since a copy was made.
     *
     * @param size bytes
     * @param modified modification time in ms (0 where the store has none)
     * @param etag the store's ETag ({@link EtagSource}: S3, ABFS, GCS), or null
     */
    record SourceFile(long size, long modified, String etag) {}

    /**
     * Lists the folder at {@code source} and reads its manifest.
     *
     * @throws IOException when the source cannot be listed or read, is not a folder, is empty, or
     *     its manifest names a file the folder lacks or gives another size
     */
    static ModelSource open(org.apache.hadoop.fs.Path source, String redacted, Configuration conf)
            throws IOException {
        FileSystem fs = source.getFileSystem(conf);
        Map<String, SourceFile> listing = list(fs, source, redacted);
        return new ModelSource(
                fs, source, redacted, listing, readManifest(fs, source, redacted, listing));
    }

    /** The manifest's entry for {@code rel}, or null (no manifest, or not in it). */
    ModelManifest.Entry expected(String rel) {
        return manifest == null ? null : manifest.files().get(rel);
    }

    /** The listed files' sizes, summed. */
    long bytes() {
        return listing.values().stream().mapToLong(SourceFile::size).sum();
    }

    /**
     * Copies every listed file into {@code dir} and checks it (size; SHA-256 where the manifest
     * gives one).
     *
     * @return each file's copy record: the source's size, modification time and ETag, and the
     *     SHA-256 computed while copying
     * @throws IOException naming the file whose copy differs from the listing or manifest
     */
    Map<String, ModelContent.CopiedFile> copyTo(Path dir) throws IOException {
        Map<String, ModelContent.CopiedFile> record = new TreeMap<>();
        for (Map.Entry<String, SourceFile> file : listing.entrySet()) {
            SourceFile f = file.getValue();
            String sha = copyAndVerify(file.getKey(), f.size(), expected(file.getKey()), dir);
            record.put(
                    file.getKey(),
                    new ModelContent.CopiedFile(f.size(), f.modified(), f.etag(), sha));
        }
        return record;
    }

    /** Relative path (with '/') to every file under {@code source}, sorted. */
    private static Map<String, SourceFile> list(
            FileSystem fs, org.apache.hadoop.fs.Path source, String redacted) throws IOException {
        FileStatus status;
        try {
            status = fs.getFileStatus(source);
        } catch (java.io.FileNotFoundException e) {
            throw new NoSuchFileException(redacted, null, "model folder not found");
        }
        if (!status.isDirectory()) {
            throw new IOException("model " + redacted + " is a file; expected a model folder");
        }
        String base = fs.makeQualified(status.getPath()).toUri().getPath();
        if (!base.endsWith("/")) {
            base += "/";
        }
        Map<String, SourceFile> files = new TreeMap<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(status.getPath(), true);
        while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            String path = fs.makeQualified(f.getPath()).toUri().getPath();
            if (!path.startsWith(base)) {
                throw new IOException(
                        "listing of model " + redacted + " returned " + path + " outside " + base);
            }
            String rel = path.substring(base.length());
            ModelManifest.checkRelativePath(rel, redacted);
            if (rel.equals(ModelContent.COPY_RECORD)) {
                // A cache copy uploaded back as a model: its record is rewritten by this copy.
                continue;
            }
            String etag = f instanceof EtagSource e ? e.getEtag() : null;
            files.put(
                    rel,
                    new SourceFile(
                            f.getLen(),
                            f.getModificationTime(),
                            etag == null || etag.isEmpty() ? null : etag));
        }
        if (files.isEmpty()) {
            throw new IOException("model folder " + redacted + " contains no files");
        }
        return files;
    }

    private static ModelManifest readManifest(
            FileSystem fs,
            org.apache.hadoop.fs.Path source,
            String redacted,
            Map<String, SourceFile> listing)
            throws IOException {
        if (!listing.containsKey(ModelManifest.FILE_NAME)) {
            return null;
        }
        String where = redacted + "/" + ModelManifest.FILE_NAME;
        ModelManifest manifest;
        try (InputStream in =
                fs.open(new org.apache.hadoop.fs.Path(source, ModelManifest.FILE_NAME))) {
            manifest = ModelManifest.parse(in, where);
        }
        for (Map.Entry<String, ModelManifest.Entry> e : manifest.files().entrySet()) {
            SourceFile listedFile = listing.get(e.getKey());
            if (listedFile == null) {
                throw new IOException(
                        "model manifest "
                                + where
                                + " lists '"
                                + e.getKey()
                                + "' but the model folder has no such file");
            }
            long listed = listedFile.size();
            if (listed != e.getValue().size()) {
                throw new IOException(
                        "model file '"
                                + e.getKey()
                                + "' of "
                                + redacted
                                + " has "
                                + listed
                                + " bytes but the manifest says "
                                + e.getValue().size());
            }
        }
        return manifest;
    }

    /** Copies one file, checks its size (and the manifest's SHA-256), returns its SHA-256. */
    private String copyAndVerify(
            String rel, long listedSize, ModelManifest.Entry expected, Path tmp)
            throws IOException {
        Path target = tmp.resolve(rel);
        Files.createDirectories(target.getParent());
        MessageDigest md = Hashes.newSha256();
        long copied = 0;
        byte[] buf = new byte[1 << 20];
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(path, rel));
                OutputStream out = Files.newOutputStream(target)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                md.update(buf, 0, n);
                copied += n;
            }
        }
        if (copied != listedSize || Files.size(target) != listedSize) {
            throw new IOException(
                    "model file '"
                            + rel
                            + "' of "
                            + redacted
                            + ": copied "
                            + copied
                            + " bytes but the listing says "
                            + listedSize);
        }
        String actual = Hashes.hex(md.digest());
        if (expected != null && expected.sha256() != null) {
            if (!actual.equals(expected.sha256())) {
                throw new IOException(
                        "model file '"
                                + rel
                                + "' of "
                                + redacted
                                + ": sha256 "
                                + actual
                                + " does not match the manifest's "
                                + expected.sha256());
            }
        }
        return actual;
    }
}
