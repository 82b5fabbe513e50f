package sdbatch.pipeline.bench;

import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What libtorch itself saw of a piece of Java code, from its autograd profiler (DJL's {@code
 * JniUtils.startProfile}/{@code stopProfile}, a Chrome trace of every aten op).
 *
 * <p>A top-level op (one not nested inside another on the same thread) is one call from Java into
 * libtorch: their count is the number of native calls, and the sum of their durations the time
 * spent inside libtorch. The rest of the wall time is Java: DJL's wrappers, JNI crossings, NDScope
 * bookkeeping and our own code. The profiler adds a few microseconds per op, so counts are exact
 * and the time split is an upper bound on the kernel share for tiny ops.
 *
 * @param nativeCalls top-level aten ops
 * @param kernelSeconds their summed duration
 * @param wallSeconds wall time of the profiled code (profiler overhead included)
 * @param byOp top-level ops by name: calls and seconds, most time first
 */
public record NativeProfile(
        int nativeCalls, double kernelSeconds, double wallSeconds, Map<String, double[]> byOp) {

    /** Profiles {@code body} (run once). Not reentrant: libtorch has one profiler per process. */
    public static synchronized NativeProfile of(Runnable body) {
        Path trace;
        try {
            trace = Files.createTempFile("sdbatch-profile", ".json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            double wall;
            JniUtils.startProfile(false, false, false);
            long t0 = System.nanoTime();
            try {
                body.run();
            } finally {
                wall = (System.nanoTime() - t0) / 1e9;
                JniUtils.stopProfile(trace.toString());
            }
            return parse(Files.readString(trace), wall);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(trace);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }

    /** Reads a Chrome trace ({@code traceEvents} or a bare array of complete "X" events). */
    static NativeProfile parse(String traceJson, double wallSeconds) {
        JsonElement root = JsonParser.parseString(traceJson);
        JsonArray events =
                root.isJsonArray()
                        ? root.getAsJsonArray()
                        : root.getAsJsonObject().getAsJsonArray("traceEvents");
        List<double[]> spans = new ArrayList<>(); // ts, end, index
        List<String> names = new ArrayList<>();
        List<String> threads = new ArrayList<>();
        for (JsonElement e : events) {
            JsonObject o = e.getAsJsonObject();
            if (!o.has("ph") || !"X".equals(o.get("ph").getAsString()) || !o.has("dur")) {
                continue;
            }
            double ts = o.get("ts").getAsDouble();
            double dur = o.get("dur").getAsDouble();
            spans.add(new double[] {ts, ts + dur, names.size()});
            names.add(o.get("name").getAsString());
            threads.add(o.has("tid") ? o.get("tid").getAsString() : "");
        }
        // Outer events first: by start, then longest first; a span inside the current top-level
        // span of its thread is nested.
        spans.sort(Comparator.<double[]>comparingDouble(s -> s[0]).thenComparing(s -> -s[1]));
        Map<String, Double> topEnd = new LinkedHashMap<>();
        Map<String, double[]> byOp = new LinkedHashMap<>();
        int calls = 0;
        double kernelMicros = 0;
        for (double[] s : spans) {
            int i = (int) s[2];
            Double end = topEnd.get(threads.get(i));
            if (end != null && s[0] >= 0 && s[1] <= end) {
                continue;
            }
            topEnd.put(threads.get(i), s[1]);
            calls++;
            kernelMicros += s[1] - s[0];
            double[] agg = byOp.computeIfAbsent(names.get(i), k -> new double[2]);
            agg[0]++;
            agg[1] += (s[1] - s[0]) / 1e6;
        }
        Map<String, double[]> sorted = new LinkedHashMap<>();
        byOp.entrySet().stream()
                .sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1]))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return new NativeProfile(calls, kernelMicros / 1e6, wallSeconds, sorted);
    }

    /** Share of the wall time spent outside libtorch (Java, JNI, bookkeeping). */
    public double javaShare() {
        return wallSeconds <= 0 ? 0 : Math.max(0, 1 - kernelSeconds / wallSeconds);
    }
}
