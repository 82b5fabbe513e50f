package sdbatch.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.testing.SharedData;

/**
 * Behaviour on the real SD vocabulary ({@code shared/clip-tokenizer}, read in place; skipped when
 * absent): empty prompts, the truncation count, normalization, unicode round trips, long prompts,
 * SD 2.x's "!" and concurrent use.
 */
class CLIPTokenizerTest {
    @TempDir Path temp;

    /** The shared folder has no config, so it also exercises the CLIPTokenizer defaults. */
    private static CLIPTokenizer shared;

    private static synchronized CLIPTokenizer sd1() {
        if (shared == null) {
            shared = CLIPTokenizer.load(SharedData.clipTokenizer());
        }
        return shared;
    }

    private CLIPTokenizer sd2() throws IOException {
        Path dir = Files.createDirectories(temp.resolve("sd2"));
        for (String name : List.of("vocab.json", "merges.txt")) {
            Files.copy(SharedData.clipTokenizer().resolve(name), dir.resolve(name));
        }
        Files.writeString(
                dir.resolve("special_tokens_map.json"),
                "{\"pad_token\": \"!\", \"bos_token\": \"<|startoftext|>\"}");
        return CLIPTokenizer.load(dir);
    }

    @Test
    void emptyPromptIsBosEosThenPadding() {
        CLIPTokenizer t = sd1();
        for (String text : List.of("", "   ", " \t\n\u3000 ")) {
            CLIPTokenizer.Encoding e = t.encode(text);
            long[] ids = e.inputIds();
            assertEquals(77, ids.length);
            assertEquals(t.bosTokenId(), ids[0]);
            assertEquals(t.eosTokenId(), ids[1]);
            for (int i = 2; i < 77; i++) {
                assertEquals(t.padTokenId(), ids[i], "position " + i);
            }
            assertEquals(2, e.length());
            assertEquals(0, e.truncatedTokens());
        }
        assertEquals(49406, t.bosTokenId());
        assertEquals(49407, t.eosTokenId());
        assertEquals(49407, t.padTokenId());
    }

    @Test
    void truncationKeepsEosAndCountsDroppedTokens() {
        CLIPTokenizer t = sd1();
        int a = t.encodeUnpadded("a")[1];
        for (int n : new int[] {74, 75, 76, 100}) {
            CLIPTokenizer.Encoding e = t.encode("a ".repeat(n));
            long[] ids = e.inputIds();
            int kept = Math.min(n, 75);
            assertEquals(Math.max(0, n - 75), e.truncatedTokens(), "n=" + n);
            assertEquals(kept + 2, e.length(), "n=" + n);
            for (int i = 1; i <= kept; i++) {
                assertEquals(a, ids[i]);
            }
            assertEquals(t.eosTokenId(), ids[kept + 1], "eos after the kept tokens, n=" + n);
        }
    }

    @Test
    void caseWhitespaceAndCompositionAreNormalized() {
        CLIPTokenizer t = sd1();
        CLIPTokenizer.Encoding plain = t.encode("a photo of a café");
        assertEquals(plain, t.encode("A PHOTO of a CAFÉ"));
        assertEquals(plain, t.encode("  a\u00A0photo \n\tof  a cafe\u0301 "));
        // Lower-casing is per code point (tokenizers' Lowercase), so Σ is σ even at a word end.
        assertEquals(t.tokenize("σ"), t.tokenize("Σ"));
    }

    @Test
    void unicodeAndEmojiRoundTripThroughTheByteLevel() {
        CLIPTokenizer t = sd1();
        List<String> texts =
                new ArrayList<>(
                        List.of(
                                "a cat 🐱 on the moon 🌕, 月 ☆ naïve Ωmega",
                                "👩‍👩‍👧 family emoji with ZWJ, flags 🇫🇷🇯🇵",
                                "日本語のテキスト と 中文 和 한국어",
                                "zero\u0000byte\u0007bell",
                                "Ⅻ ½ ٣ 𝟙"));
        SplittableRandom random = new SplittableRandom(42);
        for (int k = 0; k < 50; k++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                int cp = random.nextInt(0x1F700);
                if (Character.isDefined(cp) && !Character.isSurrogate((char) cp)) {
                    sb.appendCodePoint(cp);
                }
            }
            texts.add(sb.toString());
        }
        for (String text : texts) {
            // Every non-space char lands in some word and every byte of a word in some token.
            String expected = PreTokenizer.normalize(text).replace(" ", "");
            assertEquals(expected, decode(t.tokenize(text)), text);
        }
    }

    private static String decode(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String token : tokens) {
            String s = token.endsWith("</w>") ? token.substring(0, token.length() - 4) : token;
            for (char c : s.toCharArray()) {
                int b = BytePairEncoding.charByte(c);
                assertTrue(b >= 0, "token " + token + " has a char outside the byte map");
                bytes.write(b);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void longPromptsAreFast() {
        CLIPTokenizer t = sd1();
        StringBuilder sb = new StringBuilder();
        String[] words = {"masterpiece", "best quality", "8k", "ultra-detailed", "cat!!", "(blue)"};
        for (int i = 0; sb.length() < 20_000; i++) {
            sb.append(words[i % words.length]).append(i % 7 == 0 ? "; " : ", ");
        }
        String prose = sb.substring(0, 20_000);
        SplittableRandom random = new SplittableRandom(7);
        StringBuilder letters = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            letters.append((char) ('a' + random.nextInt(26)));
        }
        for (String text : List.of(prose, letters.toString(), "!".repeat(20_000))) {
            long start = System.nanoTime();
            CLIPTokenizer.Encoding e = t.encode(text);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 1.0, "20,000 chars took " + seconds + " s");
            int[] all = t.encodeUnpadded(text);
            assertEquals(all.length - 77, e.truncatedTokens());
            long[] ids = e.inputIds();
            for (int i = 0; i < 76; i++) {
                assertEquals(all[i], ids[i], "position " + i);
            }
            assertEquals(t.eosTokenId(), ids[76]);
        }
    }

    @Test
    void sd2PadTokenIsMatchedInTheRawPrompt() throws IOException {
        CLIPTokenizer sd1 = sd1();
        CLIPTokenizer sd2 = sd2();
        assertEquals(0, sd2.padTokenId());
        assertEquals("!", sd2.padToken());
        int[] one = sd1.encodeUnpadded("wow!! great?!");
        int[] two = sd2.encodeUnpadded("wow!! great?!");
        // SD 1.x: "!!" and "?!" are BPE words; SD 2.x: each "!" is the special token, id 0.
        assertEquals(3, Arrays.stream(two).filter(id -> id == 0).count(), Arrays.toString(two));
        assertEquals(0, Arrays.stream(one).filter(id -> id == 0).count(), Arrays.toString(one));
        assertArrayEquals(
                sd1.encodeUnpadded("a photo of a cat"), sd2.encodeUnpadded("a photo of a cat"));
        // Special tokens typed in a prompt are kept whole in both.
        int[] special = sd2.encodeUnpadded("a <|endoftext|> b");
        assertEquals(sd2.eosTokenId(), special[2]);
    }

    @Test
    void concurrentUseGivesTheSameIds() throws Exception {
        CLIPTokenizer t = sd1();
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            prompts.add(
                    "prompt " + i + ": a " + (i % 2 == 0 ? "red" : "blue") + " car #" + (i * 7919));
        }
        CLIPTokenizer fresh = CLIPTokenizer.load(SharedData.clipTokenizer());
        List<CLIPTokenizer.Encoding> expected = fresh.encodeBatch(prompts);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<CLIPTokenizer.Encoding>>> futures = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                futures.add(pool.submit(() -> t.encodeBatch(prompts)));
            }
            for (Future<List<CLIPTokenizer.Encoding>> f : futures) {
                assertEquals(expected, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        long[] flat = t.batchInputIds(prompts);
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(
                    expected.get(i).inputIds(), Arrays.copyOfRange(flat, i * 77, i * 77 + 77));
        }
    }

    @Test
    void encodingIsImmutable() {
        CLIPTokenizer.Encoding e = sd1().encode("a cat");
        long[] before = e.inputIds();
        e.inputIds()[1] = -5;
        assertArrayEquals(before, e.inputIds());
    }
}
