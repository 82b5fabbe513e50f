package sdbatch.schemas.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    @Test
    void deletesNestedFoldersAndFiles(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("top.txt"), "x");
        Files.writeString(root.resolve("a/b/c/deep.txt"), "y");
        Files.createDirectories(root.resolve("empty"));
        FileTrees.deleteRecursively(root);
        assertFalse(Files.exists(root));
        assertTrue(Files.isDirectory(dir), "only the tree named is deleted");
    }

    @Test
    void missingRootIsNothingToDo(@TempDir Path dir) throws IOException {
        FileTrees.deleteRecursively(dir.resolve("absent"));
        assertTrue(Files.isDirectory(dir));
    }

    @Test
    void linksInsideTheTreeAreNotFollowed(@TempDir Path dir) throws IOException {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("keep.txt"), "keep");
        Path root = Files.createDirectories(dir.resolve("root"));
        try {
            Files.createSymbolicLink(root.resolve("link"), outside);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "no symbolic links here: " + e);
        }
        FileTrees.deleteRecursively(root);
        assertFalse(Files.exists(root));
        assertEquals("keep", Files.readString(outside.resolve("keep.txt")));
    }
}
