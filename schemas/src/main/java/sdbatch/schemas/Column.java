package sdbatch.schemas;

import java.util.Objects;

/**
 * One column of the prompt table or of the metadata table: its canonical name, value type, whether
 * it may be null, and the sentence that documents it (carried into the Spark schema's column
 * comments and the README table).
 *
 * @param name canonical snake_case name
 * @param type the value type
 * @param nullable whether null is a legal value
 * @param doc one-sentence documentation
 */
public record Column(String name, ColumnType type, boolean nullable, String doc) {
    /** Checks that every part is present. */
    public Column {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(doc, "doc");
    }
}
