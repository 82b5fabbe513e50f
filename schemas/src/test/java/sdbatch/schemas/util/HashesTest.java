package sdbatch.schemas.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashesTest {
    // FIPS 180-2 appendix B.1 and B.3 test vectors.
    private static final String ABC =
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private static final String MILLION_A =
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

    @Test
    void sha256MatchesKnownVector() {
        assertEquals(ABC, Hashes.sha256Hex("abc".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void fileHashMatchesKnownVectors(@TempDir Path dir) throws IOException {
        Path abc = Files.write(dir.resolve("abc"), "abc".getBytes(StandardCharsets.US_ASCII));
        assertEquals(ABC, Hashes.sha256Hex(abc));
        byte[] a = new byte[1_000_000];
        Arrays.fill(a, (byte) 'a');
        assertEquals(MILLION_A, Hashes.sha256Hex(Files.write(dir.resolve("a"), a)));
    }

    @Test
    void fileHashSpanningSeveralReadsEqualsTheHashOfItsBytes(@TempDir Path dir) throws IOException {
        byte[] bytes = new byte[(3 << 20) + 12345];
        new Random(7).nextBytes(bytes);
        Path f = Files.write(dir.resolve("big"), bytes);
        assertEquals(Hashes.sha256Hex(bytes), Hashes.sha256Hex(f));
    }
}
