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
}
