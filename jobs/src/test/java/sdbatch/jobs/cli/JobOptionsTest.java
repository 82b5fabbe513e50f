package sdbatch.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JobOptionsTest {
    @Test
    void parsesEveryGenerateFlag() {
        JobOptions o =
                JobOptions.parse(
                        List.of(
                                "generate",
                                "--input",
                                "p.csv",
                                "--output=s3a://b/out",
                                "--model",
                                "m",
                                "--master",
                                "spark://h:7077",
                                "--conf",
                                "spark.executor.memory=4g",
                                "--conf",
                                "spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:9000",
                                "--seeds",
                                "0-3,1234",
                                "--guidance",
                                "1.5,7.5",
                                "--steps",
                                "20,50",
                                "--schedulers",
                                "euler_a, dpmpp_2m",
                                "--width",
                                "512",
                                "--height",
                                "768",
                                "--resume",
                                "--batch-size",
                                "4",
                                "--device",
                                "CPU",
                                "--dtype",
                                "fp16",
                                "--max-failures",
                                "10",
                                "--partitions",
                                "8",
                                "--progress-interval",
                                "5"));
        assertEquals("generate", o.command());
        assertEquals("s3a://b/out", o.output());
        assertEquals(5, o.sweep().seeds().size());
        assertEquals(1234L, o.sweep().seeds().get(4));
        assertEquals(List.of(1.5, 7.5), o.sweep().guidanceScales());
        assertEquals(List.of(20, 50), o.sweep().steps());
        assertEquals(List.of("euler_a", "dpmpp_2m"), o.sweep().schedulers());
        assertEquals(512, o.width());
        assertTrue(o.resume());
        assertEquals(4, o.batchSize());
        assertEquals(JobOptions.Device.CPU, o.device());
        assertEquals("fp16", o.dtype());
        assertEquals(10L, o.maxFailures());
        assertEquals(8, o.partitions());
        assertEquals(
                Map.of(
                        "spark.executor.memory", "4g",
                        "spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000"),
                o.conf());
    }

    @Test
    void defaults() {
        JobOptions o = JobOptions.parse(List.of("generate", "--input", "i", "--output", "o"));
        assertEquals(Flags.MASTER_DEFAULT, o.master());
        assertNull(o.model());
        assertEquals(sdbatch.schemas.sweep.SweepSpec.NONE, o.sweep());
        assertEquals(Flags.BATCH_SIZE_DEFAULT, o.batchSize());
        assertEquals(JobOptions.Device.AUTO, o.device());
        assertEquals(Flags.MAX_FAILURES_DEFAULT, o.maxFailures());
        assertFalse(o.resume());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "generate --input i|generate needs --output",
                "generate --input i --output o --batch-size 0|--batch-size must be a positive integer, got '0'",
                "generate --input i --output o --device tpu|--device must be auto, cpu or gpu, got 'tpu'",
                "generate --input i --output o --seeds 5-1|is a reversed range",
                "generate --input i --output o --guidance NaN|--guidance item 'NaN' is not a decimal number",
                "generate --input i --output o --dtype int8|--dtype must be fp32, fp16 or bf16, got 'int8'",
                "make-tiny-model --output d --variant sd4|--variant must be sd1, sd2v, sd15-shaped, sdxl, sdxl-shaped, sd3 or sd3-medium-shaped",
                "generate --input i --output o --steps 20,,50|--steps '20,,50' has an empty item",
                "generate --input i --output o --seeds 1 --images-per-prompt 2|exclude each other",
                "generate --input i --output o --bogus 1|unknown flag --bogus for generate",
                "generate --input i --output o --conf novalue|--conf needs key=value, got 'novalue'",
                "generate --input i --output o --input j|--input given twice",
                "generate --input i --output o --resume=yes|--resume takes no value",
                "generate --input|--input needs a value",
                "tokenize --json|tokenize needs prompts or --file",
                "make-tiny-model --input x|unknown flag --input for make-tiny-model",
                "paint --input x|unknown command 'paint'",
            })
    void badFlagsExitTwoWithAMessage(String line, String message) {
        StartupException e =
                assertThrows(
                        StartupException.class, () -> JobOptions.parse(List.of(line.split(" "))));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code =
                new Cli(Map.of())
                        .run(
                                List.of(line.split(" ")),
                                new PrintStream(
                                        new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains(message));
    }

    @Test
    void helpForEveryCommand() {
        for (String command : JobOptions.COMMANDS) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code =
                    new Cli(Map.of())
                            .run(
                                    List.of(command, "--help"),
                                    new PrintStream(out, true, StandardCharsets.UTF_8),
                                    System.err);
            assertEquals(0, code);
            assertTrue(
                    out.toString(StandardCharsets.UTF_8).startsWith("usage: sdbatch " + command));
        }
    }

    @Test
    void tokenizeTakesPositionalPrompts() {
        JobOptions o = JobOptions.parse(List.of("tokenize", "--json", "a cat", "a dog"));
        assertEquals(List.of("a cat", "a dog"), o.prompts());
        assertTrue(o.json());
    }

    @Test
    void commandsRunAndMapToExitCodes() {
        Cli cli =
                new Cli(
                        Map.of(
                                "make-tiny-model", (o, out, err) -> ExitCode.OK,
                                "validate", (o, out, err) -> ExitCode.INVALID_ROWS,
                                "generate",
                                        (o, out, err) -> {
                                            throw new StartupException("unreadable table x.csv");
                                        }));
        PrintStream quiet =
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, cli.run(List.of("make-tiny-model", "--output", "d"), quiet, quiet));
        assertEquals(3, cli.run(List.of("validate", "--input", "i"), quiet, quiet));
        assertEquals(
                2, cli.run(List.of("generate", "--input", "i", "--output", "o"), quiet, quiet));
        assertEquals(2, cli.run(List.of("tokenize", "x"), quiet, quiet), "not in this build");
    }

    @Test
    void exitCodes() {
        assertEquals(ExitCode.OK, ExitCode.of(0, 0));
        assertEquals(ExitCode.INVALID_ROWS, ExitCode.of(3, 0));
        assertEquals(ExitCode.FAILED_ROWS, ExitCode.of(3, 1));
        assertEquals(4, ExitCode.FAILED_ROWS.code());
    }

    @Test
    void vaeWithoutT5AndGuidanceRescaleFlags() {
        JobOptions o =
                JobOptions.parse(
                        List.of(
                                "generate",
                                "--input",
                                "i.csv",
                                "--output",
                                "o",
                                "--vae",
                                "/models/vae-fp16",
                                "--without-t5",
                                "--guidance-rescale",
                                "0,0.7"));
        assertEquals("/models/vae-fp16", o.componentFlags().vae());
        assertTrue(o.componentFlags().withoutT5());
        assertEquals(List.of(0.0, 0.7), o.sweep().guidanceRescales());
        JobOptions none = JobOptions.parse(List.of("generate", "--input", "i", "--output", "o"));
        assertEquals(null, none.componentFlags().vae());
        assertEquals(false, none.componentFlags().withoutT5());
        StartupException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        StartupException.class,
                        () ->
                                JobOptions.parse(
                                        List.of(
                                                "generate",
                                                "--input",
                                                "i",
                                                "--output",
                                                "o",
                                                "--without-t5=yes")));
        assertTrue(e.getMessage().contains("--without-t5 takes no value"), e.getMessage());
    }
}
