package sdbatch.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactionTest {
    @Test
    void secretKeys() {
        for (String k :
                List.of(
                        "spark.hadoop.fs.s3a.secret.key",
                        "spark.hadoop.fs.s3a.access.key",
                        "spark.hadoop.fs.s3a.session.token",
                        "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net",
                        "spark.ssl.keyStorePassword",
                        "spark.authenticate.secret",
                        "spark.hadoop.fs.gs.auth.service.account.private.key")) {
            assertTrue(Redaction.isSecretKey(k), k);
        }
        for (String k :
                List.of("spark.executor.memory", "spark.hadoop.fs.s3a.endpoint", "spark.master")) {
            assertFalse(Redaction.isSecretKey(k), k);
        }
    }

    @Test
    void confArgsAndUris() {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("spark.hadoop.fs.s3a.secret.key", "s3cr3t");
        conf.put("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000");
        assertEquals(
                Map.of(
                        "spark.hadoop.fs.s3a.secret.key",
                        Redaction.REDACTED,
                        "spark.hadoop.fs.s3a.endpoint",
                        "http://127.0.0.1:9000"),
                Redaction.conf(conf));
        List<String> args =
                Redaction.args(
                        List.of(
                                "generate",
                                "--conf",
                                "spark.hadoop.fs.s3a.access.key=AKIA123",
                                "--conf=spark.hadoop.fs.s3a.session.token=tok",
                                "--input",
                                "s3a://AKIA123:s3cr3t@bucket/p.parquet"));
        String joined = String.join(" ", args);
        assertFalse(joined.contains("AKIA123"), joined);
        assertFalse(joined.contains("s3cr3t"), joined);
        assertFalse(joined.contains("=tok"), joined);
        assertTrue(joined.contains("bucket/p.parquet"), joined);
        assertTrue(joined.contains("spark.hadoop.fs.s3a.access.key="), joined);
    }

    /** Issue 15 item 8: a server-side encryption key, and a secret holding '/'. */
    @Test
    void encryptionKeysAndSecretsWithSlashesAreHidden() {
        for (String k :
                List.of(
                        "spark.hadoop.fs.s3a.encryption.key",
                        "spark.hadoop.fs.s3a.server-side-encryption.key",
                        "spark.hadoop.fs.s3a.bucket.b.encryption.key",
                        "spark.hadoop.fs.gs.encryption.key")) {
            assertTrue(Redaction.isSecretKey(k), k);
        }
        String uri = "s3a://AKIA9:se/cr+et/x@bucket/prompts.csv";
        for (String shown :
                List.of(
                        Redaction.uri(uri),
                        String.join(
                                " ", Redaction.args(List.of("--input", uri, "--conf", "k=" + uri))),
                        Redaction.text("cannot read prompt table " + uri + ": not found"),
                        sdbatch.jobs.storage.StorageUris.redact(uri))) {
            assertFalse(shown.contains("se/cr"), shown);
            assertFalse(shown.contains("AKIA9"), shown);
            assertTrue(shown.contains("@bucket/prompts.csv"), shown);
        }
        assertEquals(
                "s3a://***@bucket/p",
                sdbatch.jobs.storage.StorageUris.redact("s3a://A:b/c@bucket/p"));
        assertEquals("s3a://bucket/p", sdbatch.jobs.storage.StorageUris.redact("s3a://bucket/p"));
    }

    /** What the command line prints of a failed start never holds a URI's credentials. */
    @Test
    void theCommandLinePrintsStartupFailuresRedacted() {
        sdbatch.jobs.cli.Cli cli =
                new sdbatch.jobs.cli.Cli(
                        Map.of(
                                "validate",
                                (options, out, err) -> {
                                    throw new sdbatch.jobs.cli.StartupException(
                                            "cannot read prompt table s3a://AK:se/cret@b/p.csv");
                                }));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream ps =
                new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        int code = cli.run(List.of("validate", "--input", "x.csv"), ps, ps);
        String printed = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(2, code, printed);
        assertTrue(printed.contains("@b/p.csv"), printed);
        assertFalse(printed.contains("se/cret"), printed);
    }
}
