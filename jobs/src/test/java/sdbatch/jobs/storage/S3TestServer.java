package sdbatch.jobs.storage;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 API server for tests: s3proxy in this JVM on 127.0.0.1, backed by jclouds' filesystem
 * blob store in a folder the test owns, with fixed test credentials and one bucket.
 *
 * <p>Contract: {@link #start()} binds a free port the first time and the same port on every later
 * start, and the stored objects survive {@link #stop()}/{@link #start()} (for fault tests that take
 * the server away during a run). {@link #hadoopSettings()} are the standard s3a keys a job would
 * get through {@code --conf spark.hadoop.fs.s3a.*}; nothing else is needed to reach the server.
 * Retries are cut short so a stopped server fails a test in seconds, not minutes. The bucket name
 * is random per instance because Hadoop caches {@code FileSystem}s by scheme and bucket, not by
 * endpoint. Only loopback is ever bound.
 */
public final class S3TestServer implements AutoCloseable {

    /** Test-only access key; not a credential for anything real. */
    public static final String ACCESS_KEY = "sdbatch-test-access";

    /** Test-only secret key; not a credential for anything real. */
    public static final String SECRET_KEY = "sdbatch-test-secret-0123456789";

    private final Path storeDir;
    private final String bucket;
    private BlobStoreContext context;
    private S3Proxy proxy;
    private int port;

    /**
     * @param storeDir folder for the blob store (the test's temporary folder)
     */
    public S3TestServer(Path storeDir) {
        this.storeDir = storeDir.toAbsolutePath();
        this.bucket =
                "sdbatch-" + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    }

    /** Starts the server (first call: on a free port) and creates the bucket if missing. */
    public synchronized S3TestServer start() throws Exception {
        if (proxy != null) {
            return this;
        }
        Files.createDirectories(storeDir);
        if (context == null) {
            Properties props = new Properties();
            props.setProperty("jclouds.filesystem.basedir", storeDir.toString());
            context =
                    ContextBuilder.newBuilder("filesystem")
                            .credentials(ACCESS_KEY, SECRET_KEY)
                            .overrides(props)
                            .buildView(BlobStoreContext.class);
            context.getBlobStore().createContainerInLocation(null, bucket);
        }
        S3Proxy p =
                S3Proxy.builder()
                        .blobStore(context.getBlobStore())
                        .endpoint(URI.create("http://127.0.0.1:" + port))
                        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                        .build();
        p.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(p.getState())) {
            if (System.nanoTime() > deadline) {
                p.stop();
                throw new IllegalStateException("s3proxy did not start: state " + p.getState());
            }
            Thread.sleep(10);
        }
        port = p.getPort();
        proxy = p;
        return this;
    }

    /** Stops serving; the port and the stored objects are kept for the next {@link #start()}. */
    public synchronized void stop() throws Exception {
        if (proxy != null) {
            proxy.stop();
            proxy = null;
        }
    }

    /** True while the server accepts requests. */
    public synchronized boolean isRunning() {
        return proxy != null;
    }

    @Override
    public synchronized void close() throws Exception {
        stop();
        if (context != null) {
            context.close();
            context = null;
        }
    }

    /** The port (fixed after the first start). */
    public int port() {
        return port;
    }

    /** The bucket name. */
    public String bucket() {
        return bucket;
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** {@code s3a://<bucket>/<path>}. */
    public String uri(String path) {
        return "s3a://" + bucket + "/" + (path.startsWith("/") ? path.substring(1) : path);
    }

    /**
     * The s3a settings for this server, as Hadoop keys (prefix them with {@code spark.hadoop.} for
     * Spark): endpoint, path-style access, SSL off, credentials, and small retry limits.
     */
    public Map<String, String> hadoopSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("fs.s3a.endpoint", endpoint());
        s.put("fs.s3a.endpoint.region", "us-east-1");
        s.put("fs.s3a.path.style.access", "true");
        s.put("fs.s3a.connection.ssl.enabled", "false");
        s.put(
                "fs.s3a.aws.credentials.provider",
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        s.put("fs.s3a.access.key", ACCESS_KEY);
        s.put("fs.s3a.secret.key", SECRET_KEY);
        // Fail fast when the server is down: SDK attempts, S3A retries, and timeouts.
        s.put("fs.s3a.attempts.maximum", "1");
        s.put("fs.s3a.retry.limit", "1");
        s.put("fs.s3a.retry.interval", "100ms");
        s.put("fs.s3a.retry.throttle.limit", "1");
        s.put("fs.s3a.retry.throttle.interval", "100ms");
        s.put("fs.s3a.connection.establish.timeout", "2s");
        s.put("fs.s3a.connection.timeout", "10s");
        // No bucket-existence probe, no change detection surprises against a small server.
        s.put("fs.s3a.bucket.probe", "0");
        return s;
    }

    /** A fresh Hadoop configuration with {@link #hadoopSettings()} applied. */
    public Configuration hadoopConfiguration() {
        Configuration conf = new Configuration();
        hadoopSettings().forEach(conf::set);
        return conf;
    }
}
