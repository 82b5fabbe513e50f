package sdbatch.jobs.storage;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * A model cache root that only its user can write: whoever can write there can plant weights that
 * every later job on the host loads (and that the cache's copy record vouches for). On a shared
 * {@code /tmp} or a Kubernetes hostPath another user may have created the folder first.
 *
 * <p>{@link #secure} creates a missing root with mode 700 (owner only), and refuses an existing one
 * that another user owns or that its group or others may write. File systems without POSIX
 * permissions (Windows) are not checked.
 */
public final class CacheFolder {
    private static final Set<PosixFilePermission> OWNER_ONLY =
            PosixFilePermissions.fromString("rwx------");

    private CacheFolder() {}

    /**
     * Creates {@code root} owner-only if missing, then checks it.
     *
     * @return {@code root}
     * @throws IOException naming the folder, its owner or mode, and what to do, when another user
     *     owns it or its group or others may write it
     */
    public static Path secure(Path root) throws IOException {
        boolean posix = root.getFileSystem().supportedFileAttributeViews().contains("posix");
        if (!Files.isDirectory(root)) {
            if (root.getParent() != null) {
                Files.createDirectories(root.getParent());
            }
            try {
                if (posix) {
                    Files.createDirectory(root, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                    // The umask can only remove bits; set them exactly anyway.
                    Files.setPosixFilePermissions(root, OWNER_ONLY);
                } else {
                    Files.createDirectory(root);
                }
            } catch (FileAlreadyExistsException e) {
                // Created by a concurrent task: checked below like any existing folder.
            }
        }
        PosixFileAttributes attrs;
        try {
            attrs =
                    Files.readAttributes(
                            root, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException e) {
            return root;
        }
        if (attrs.isSymbolicLink()) {
            throw new IOException(
                    "model cache folder "
                            + root
                            + " is a symbolic link; pass the real folder as --model-cache");
        }
        UserPrincipal me = currentUser(root);
        if (me != null && !attrs.owner().getName().equals(me.getName())) {
            throw new IOException(
                    "model cache folder "
                            + root
                            + " belongs to "
                            + attrs.owner().getName()
                            + ", not to "
                            + me.getName()
                            + ": another user could plant model weights there; pass a folder of"
                            + " your own with --model-cache (or SDBATCH_MODEL_CACHE)");
        }
        Set<PosixFilePermission> mode = attrs.permissions();
        if (mode.contains(PosixFilePermission.GROUP_WRITE)
                || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(
                    "model cache folder "
                            + root
                            + " has mode "
                            + PosixFilePermissions.toString(mode)
                            + ": its group or other users could plant model weights there; make"
                            + " it owner-only (chmod 700) or pass another --model-cache");
        }
        return root;
    }

    /**
     * The user this process runs as: the owner of {@code /proc/self} on Linux (right even for a
     * container uid with no passwd entry), else the {@code user.name} looked up; null when neither
     * can be found (the owner check is then skipped, the mode check still runs).
     */
    private static UserPrincipal currentUser(Path onFileSystem) {
        Path procSelf = Path.of("/proc/self");
        try {
            if (Files.exists(procSelf)) {
                return Files.getOwner(procSelf);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Fall back to the user name.
        }
        try {
            return onFileSystem
                    .getFileSystem()
                    .getUserPrincipalLookupService()
                    .lookupPrincipalByName(System.getProperty("user.name"));
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }
}
