package sdbatch.jobs.e2e;

import com.google.gson.JsonObject;

/** The prompt-table rows of the LoRA job tests: one step at 64x64, a LoRA set or none. */
final class LoraRows {
    private LoraRows() {}

    /**
     * Row {@code id}: prompt {@code subject + " " + id}, {@code seed}, and {@code loras} (the
     * column's text) unless null.
     */
    static JsonObject row(String subject, String id, int seed, String loras) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("prompt", subject + " " + id);
        o.addProperty("seed", seed);
        o.addProperty("steps", 1);
        o.addProperty("width", 64);
        o.addProperty("height", 64);
        if (loras != null) {
            o.addProperty("loras", loras);
        }
        return o;
    }
}
