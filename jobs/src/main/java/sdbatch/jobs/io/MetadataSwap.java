package sdbatch.jobs.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * Replaces {@code <output>/metadata/} with a fully written staging folder so that a crash at any
 * point leaves either the old table or the new one, never none.
 *
 * <p>Renaming a folder is one atomic step on HDFS and the local file system, but on object stores
 * ({@code s3a}) it is a copy and a delete of every file: a driver killed between "move the old
 * table aside" and "move the new one in", or in the middle of either, would leave no {@code
 * metadata/} at all, or half of one. So the swap is journaled:
 *
 * <ol>
 *   <li>The staging folder is complete (Spark's commit protocol wrote it).
 *   <li>The journal {@value #JOURNAL} is written in one create (one PUT on an object store), naming
 *       the staging folder and the aside folder and ending in {@code end}. This is the commit
 *       point: from here on the staging folder is the table. A journal cut short (no {@code end})
 *       was never committed: nothing had moved yet, and it is deleted.
 *   <li>Every file of {@code metadata/} is moved into the aside folder; then the empty marker
 *       {@value #JOURNAL}{@code .install} is created.
 *   <li>Every file of the staging folder is moved into {@code metadata/}; the aside folder, the
 *       marker and then the journal are deleted.
 * </ol>
 *
 * Each move is idempotent (a file already at its destination is not moved again), so {@link
 * #recover} (run by every generate run and every {@link ResumeIndex} reader before it reads {@code
 * metadata/}) finishes an interrupted swap from its journal, whatever step it died in.
 */
public final class MetadataSwap {
    /** The journal file in the output root while a swap is under way. */
    public static final String JOURNAL = "metadata.swap";

    private static final String STAGING = "staging";
    private static final String ASIDE = "aside";
    private static final String END = "end";

    private MetadataSwap() {}

    /** Replaces {@code root/metadata} with the complete folder {@code staging} (see above). */
    public static void swapIn(FileSystem fs, Path root, Path staging) throws IOException {
        Path aside = new Path(root, "metadata.replaced-" + UUID.randomUUID());
        Map<String, String> journal = new LinkedHashMap<>();
        journal.put(STAGING, staging.getName());
        journal.put(ASIDE, aside.getName());
        writeJournal(fs, root, journal);
        finish(fs, root, journal);
    }

    /**
     * Finishes a swap a crashed or failed run left half done, if its journal is there.
     *
     * @return whether there was one to finish
     */
    public static boolean recover(FileSystem fs, Path root) throws IOException {
        Path journalPath = new Path(root, JOURNAL);
        if (!fs.exists(journalPath)) {
            return false;
        }
        Map<String, String> journal = readJournal(fs, journalPath);
        if (journal == null) {
            // Cut short before the commit point: nothing was moved, the old table stands.
            fs.delete(journalPath, false);
            return false;
        }
        finish(fs, root, journal);
        return true;
    }

    private static void finish(FileSystem fs, Path root, Map<String, String> journal)
            throws IOException {
        Path metadata = ResumeIndex.metadataPath(root.toString());
        Path staging = new Path(root, name(journal, STAGING));
        Path aside = new Path(root, name(journal, ASIDE));
        Path installing = new Path(root, JOURNAL + ".install");
        if (!fs.exists(installing)) {
            moveAll(fs, metadata, aside);
            fs.create(installing, true).close();
        }
        moveAll(fs, staging, metadata);
        if (fs.exists(aside)) {
            fs.delete(aside, true);
        }
        fs.delete(installing, false);
        fs.delete(new Path(root, JOURNAL), false);
    }

    /** A folder name from the journal; never a path that leaves the output root. */
    private static String name(Map<String, String> journal, String key) throws IOException {
        String name = journal.get(key);
        if (name == null || name.isEmpty() || name.contains("/") || name.startsWith(".")) {
            throw new IOException(
                    "the metadata swap journal " + JOURNAL + " has no valid '" + key + "' entry");
        }
        return name;
    }

    /**
     * Moves every file under {@code from} to the same relative path under {@code to}, then deletes
     * {@code from}. One folder rename when {@code to} does not exist yet; file by file when an
     * earlier, interrupted move left both (a file already at its destination was copied whole
     * before the crash: only its source is deleted).
     */
    static void moveAll(FileSystem fs, Path from, Path to) throws IOException {
        if (!fs.exists(from)) {
            return;
        }
        if (!fs.exists(to) && fs.rename(from, to)) {
            return;
        }
        Path base = fs.makeQualified(from);
        String prefix = base.toUri().getPath() + "/";
        RemoteIterator<LocatedFileStatus> files = fs.listFiles(base, true);
        while (files.hasNext()) {
            Path file = files.next().getPath();
            String path = file.toUri().getPath();
            if (!path.startsWith(prefix)) {
                throw new IOException("listing " + from + " returned " + file);
            }
            Path target = new Path(to, path.substring(prefix.length()));
            if (fs.exists(target)) {
                fs.delete(file, false);
                continue;
            }
            fs.mkdirs(target.getParent());
            if (!fs.rename(file, target)) {
                throw new IOException("cannot move " + file + " to " + target);
            }
        }
        fs.delete(from, true);
    }

    private static void writeJournal(FileSystem fs, Path root, Map<String, String> journal)
            throws IOException {
        StringBuilder text = new StringBuilder();
        journal.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        text.append(END).append('\n');
        try (OutputStream out = fs.create(new Path(root, JOURNAL), true)) {
            out.write(text.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The journal's entries, or null when it was cut short (no {@code end} line). */
    private static Map<String, String> readJournal(FileSystem fs, Path journalPath)
            throws IOException {
        String text;
        try (InputStream in = fs.open(journalPath)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!text.endsWith("\n" + END + "\n")) {
            return null;
        }
        Map<String, String> journal = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                journal.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return journal;
    }
}
