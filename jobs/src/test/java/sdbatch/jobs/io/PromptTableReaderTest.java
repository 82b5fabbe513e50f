package sdbatch.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.spark.SparkSchemas;
import sdbatch.jobs.testing.SharedSparkSession;

class PromptTableReaderTest extends SharedSparkSession {
    @TempDir Path dir;

    @Test
    void formatByExtension() {
        assertEquals(PromptTableReader.Format.CSV, PromptTableReader.formatOf("a.CSV"));
        assertEquals(PromptTableReader.Format.CSV, PromptTableReader.formatOf("a.csv.gz"));
        assertEquals(PromptTableReader.Format.JSON, PromptTableReader.formatOf("a.jsonl"));
        assertEquals(
                PromptTableReader.Format.PARQUET,
                PromptTableReader.formatOf("part-0.snappy.parquet"));
    }

    @Test
    void parquetWithWrongTypesKeepsBadCellsAsStrings() throws Exception {
        Path parquet = dir.resolve("t.parquet");
        // steps as bigint (pandas' int64), seed as string with one bad cell, width as short,
        // guidance as float, a passthrough struct.
        spark.sql(
                        "select * from values "
                                + "('a cat', cast(20 as bigint), '7', cast(64 as smallint), cast(7.5 as float), named_struct('k', 1)),"
                                + "('a dog', cast(30 as bigint), 'x', cast(32 as smallint), cast(1 as float), named_struct('k', 2))"
                                + " as t(prompt, num_inference_steps, seed, width, guidance_scale, extra)")
                .coalesce(1)
                .write()
                .parquet(parquet.toString());
        Dataset<Row> table = PromptTableReader.read(spark, parquet.toString());
        List<String> names = List.of(table.schema().fieldNames());
        assertEquals(
                List.of(
                        "prompt",
                        "negative_prompt",
                        "seed",
                        "steps",
                        "guidance_scale",
                        "scheduler",
                        "scheduler_config",
                        "width",
                        "height",
                        "eta",
                        "clip_skip",
                        "init_image",
                        "mask_image",
                        "strength",
                        "paste_back",
                        "loras",
                        "controlnet",
                        "control_image",
                        "controlnet_conditioning_scale",
                        "control_guidance_start",
                        "control_guidance_end",
                        "prompt_2",
                        "negative_prompt_2",
                        "prompt_3",
                        "negative_prompt_3",
                        "max_sequence_length",
                        "original_width",
                        "original_height",
                        "crop_top",
                        "crop_left",
                        "target_width",
                        "target_height",
                        "guidance_rescale",
                        "extra",
                        "source_row"),
                names);
        assertEquals(
                DataTypes.StringType,
                table.schema().apply("steps").dataType(),
                "bigint does not fit int exactly");
        assertEquals(DataTypes.StringType, table.schema().apply("seed").dataType());
        assertEquals(DataTypes.IntegerType, table.schema().apply("width").dataType());
        assertEquals(DataTypes.DoubleType, table.schema().apply("guidance_scale").dataType());
        assertEquals(
                DataTypes.IntegerType,
                table.schema().apply("height").dataType(),
                "missing: typed null");
        List<Row> rows = table.orderBy("source_row").collectAsList();
        assertEquals("20", rows.get(0).getAs("steps"));
        assertEquals("x", rows.get(1).getAs("seed"));
        assertEquals(7.5, rows.get(0).<Double>getAs("guidance_scale"));
        assertEquals(0L, rows.get(0).<Long>getAs("source_row"));
        assertEquals(1L, rows.get(1).<Long>getAs("source_row"));
        assertTrue(rows.get(1).getAs("extra") instanceof Row, "passthrough untouched");
    }

    @Test
    void startupErrorsNameThePath() throws Exception {
        Path noPrompt = dir.resolve("np.csv");
        Files.writeString(noPrompt, "text,seed\nhello,1\n");
        StartupException e =
                assertThrows(
                        StartupException.class,
                        () -> PromptTableReader.read(spark, noPrompt.toString()));
        assertTrue(
                e.getMessage().contains(noPrompt.toString())
                        && e.getMessage().contains("no prompt column"),
                e.getMessage());

        String missing = dir.resolve("missing.parquet").toString();
        e = assertThrows(StartupException.class, () -> PromptTableReader.read(spark, missing));
        assertTrue(e.getMessage().contains(missing), e.getMessage());

        Path both = dir.resolve("both.csv");
        Files.writeString(both, "prompt,steps,num_inference_steps\na,1,2\n");
        e =
                assertThrows(
                        StartupException.class,
                        () -> PromptTableReader.read(spark, both.toString()));
        assertTrue(e.getMessage().contains("num_inference_steps"), e.getMessage());

        Path reserved = dir.resolve("reserved.csv");
        Files.writeString(reserved, "PROMPT,status\na,x\n");
        Row r = PromptTableReader.read(spark, reserved.toString()).collectAsList().get(0);
        assertEquals("a", r.getAs("prompt"), "column names match case-insensitively");
        assertEquals("x", r.getAs("status"), "a passthrough column named like an output is kept");
        assertEquals("input_status", SparkSchemas.passthroughName("status"));
    }

    @Test
    void theExampleTableReads() {
        Path example = Path.of("..", "examples", "prompts.csv");
        List<Row> rows =
                PromptTableReader.read(spark, example.toString())
                        .orderBy("source_row")
                        .collectAsList();
        assertEquals(6, rows.size());
        assertEquals(
                "a mountain lake at night,\nstars reflected in the water",
                rows.get(5).getAs("prompt"));
        assertEquals(
                "a robot reading a newspaper on a park bench, \"retro\" sci-fi poster",
                rows.get(4).getAs("prompt"));
        assertEquals("42", rows.get(1).getAs("seed"), "CSV cells stay strings for the validator");
        assertEquals("animals", rows.get(1).getAs("label"));
    }

    @Test
    void knownColumnsAreCanonical() {
        assertEquals(33, sdbatch.schemas.Columns.INPUT.size());
        assertTrue(
                SparkSchemas.metadata(
                                new org.apache.spark.sql.types.StructType().add("label", "string"))
                        .fieldNames()[SparkSchemas.METADATA.size()]
                        .equals("label"));
    }

    /**
     * A null negative prompt and {@code ""} stay apart from the table to the row (SDXL: none = zero
     * embeddings, {@code ""} = the encoded empty text), in each format: CSV writes none as an empty
     * cell and {@code ""} as a quoted empty cell; JSON as a missing key or {@code null}, and {@code
     * ""}.
     */
    @Test
    void aNullNegativePromptAndTheEmptyOneStayApart() throws Exception {
        Path csv = dir.resolve("n.csv");
        Files.writeString(
                csv,
                "id,prompt,negative_prompt,negative_prompt_2,prompt_2,steps\n"
                        + "none,a,,,x,\n"
                        + "empty,a,\"\",\"\",x,\"\"\n"
                        + "text,a,blurry,,\"\",3\n");
        Path json = dir.resolve("n.jsonl");
        Files.writeString(
                json,
                "{\"id\":\"none\",\"prompt\":\"a\"}\n"
                        + "{\"id\":\"null\",\"prompt\":\"a\",\"negative_prompt\":null}\n"
                        + "{\"id\":\"empty\",\"prompt\":\"a\",\"negative_prompt\":\"\"}\n");
        java.util.Map<String, Row> c = byId(PromptTableReader.read(spark, csv.toString()));
        assertEquals(null, (String) c.get("none").getAs("negative_prompt"));
        assertEquals(null, (String) c.get("none").getAs("negative_prompt_2"));
        assertEquals("", (String) c.get("empty").getAs("negative_prompt"));
        assertEquals("", (String) c.get("empty").getAs("negative_prompt_2"));
        assertEquals("blurry", (String) c.get("text").getAs("negative_prompt"));
        assertEquals("", (String) c.get("text").getAs("prompt_2"));
        // Only text tells none from empty: a quoted empty number is null, as an unquoted one.
        assertEquals(null, (String) c.get("empty").getAs("steps"));
        assertEquals("3", (String) c.get("text").getAs("steps"));
        java.util.Map<String, Row> j = byId(PromptTableReader.read(spark, json.toString()));
        assertEquals(null, (String) j.get("none").getAs("negative_prompt"));
        assertEquals(null, (String) j.get("null").getAs("negative_prompt"));
        assertEquals("", (String) j.get("empty").getAs("negative_prompt"));
    }

    private static java.util.Map<String, Row> byId(Dataset<Row> table) {
        java.util.Map<String, Row> m = new java.util.HashMap<>();
        for (Row r : table.collectAsList()) {
            m.put(r.getAs("id"), r);
        }
        return m;
    }
}
