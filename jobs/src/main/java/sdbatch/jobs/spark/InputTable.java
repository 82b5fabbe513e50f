package sdbatch.jobs.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import sdbatch.jobs.generate.RequestOrInvalid;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.io.PromptTableReader;
import sdbatch.schemas.Columns;
import sdbatch.schemas.PromptRow;

/**
 * The normalized prompt table ({@link PromptTableReader}): its rows, the position of each part, the
 * passthrough columns; and the planning of its rows on the executors ({@link RowPlanner#plan}),
 * shared by {@link GenerateJob} and {@link ValidateJob}.
 *
 * @param rows the rows: known columns, passthrough columns, {@code source_row}
 * @param layout where the parts are in a row
 * @param passthroughSchema the passthrough columns as read
 * @param table the normalized table ({@link PromptTableReader#read})
 */
record InputTable(
        JavaRDD<Row> rows, Layout layout, StructType passthroughSchema, Dataset<Row> table) {
    static InputTable read(SparkSession spark, String location) {
        Dataset<Row> table = PromptTableReader.read(spark, location);
        List<StructField> pass = new ArrayList<>();
        StructField[] fields = table.schema().fields();
        int known = Columns.INPUT.size();
        for (int i = known; i < fields.length - 1; i++) {
            pass.add(fields[i]);
        }
        StructType passSchema = new StructType(pass.toArray(new StructField[0]));
        List<String> names = List.of(passSchema.fieldNames());
        return new InputTable(
                table.javaRDD(),
                new Layout(known, names, names.indexOf(SparkSchemas.CORRUPT_RECORD)),
                passSchema,
                table);
    }

    /**
     * How many rows set each of {@code columns} (known input columns), in one pass over the table:
     * the SDXL/SD3 columns a model's family ignores are warned about once per job ({@link
     * sdbatch.jobs.generate.FamilyColumns#warning}), and {@code validate} counts them.
     */
    Map<String, Long> nonNullCounts(List<String> columns) {
        if (columns.isEmpty()) {
            return Map.of();
        }
        org.apache.spark.sql.Column[] counts =
                columns.stream()
                        .map(c -> org.apache.spark.sql.functions.count(table.col(c)).as(c))
                        .toArray(org.apache.spark.sql.Column[]::new);
        Row r =
                table.agg(counts[0], java.util.Arrays.copyOfRange(counts, 1, counts.length))
                        .first();
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            out.put(columns.get(i), r.getLong(i));
        }
        return out;
    }

    List<String> passthroughNames() {
        return layout.passthrough();
    }

    /** Every row planned, lazily: one invalid metadata row, or the row's expanded requests. */
    JavaRDD<RequestOrInvalid> planned(RowPlanner planner) {
        Layout l = layout; // the function ships the layout, not this record and its RDD
        return rows.flatMap(row -> plan(planner, l, row));
    }

    /**
     * Where the parts of a normalized row are.
     *
     * @param known number of known columns (in {@link Columns#INPUT} order, first)
     * @param passthrough passthrough column names, in order, after the known ones
     * @param corruptIndex index of {@code _corrupt_record} among the passthrough columns, or -1
     */
    record Layout(int known, List<String> passthrough, int corruptIndex) implements Serializable {}

    /** Plans one normalized input row (see {@link RowPlanner#plan}). */
    static Iterator<RequestOrInvalid> plan(RowPlanner planner, Layout layout, Row row) {
        Map<String, Object> columns = new LinkedHashMap<>();
        for (int i = 0; i < layout.known(); i++) {
            columns.put(Columns.INPUT.get(i).name(), row.get(i));
        }
        List<String> pass = layout.passthrough();
        for (int j = 0; j < pass.size(); j++) {
            columns.put(pass.get(j), row.get(layout.known() + j));
        }
        long sourceRow = row.getLong(layout.known() + pass.size());
        PromptRow prompt = PromptRow.fromColumns(sourceRow, null, columns);
        Object corrupt =
                layout.corruptIndex() >= 0 ? row.get(layout.known() + layout.corruptIndex()) : null;
        return planner.plan(prompt, corrupt == null ? null : corrupt.toString());
    }
}
