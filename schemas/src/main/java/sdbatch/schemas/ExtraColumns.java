package sdbatch.schemas;

/**
 * The SDXL and SD3 columns and guidance rescale (issues 16, 19) as fields: what a row states
 * ({@link GenerationParameters}) and what a request uses ({@link ExtraConditioning}) name them
 * alike, so the mapping from a column of {@link ExtraConditioning#COLUMNS} to its field is said
 * here once and a new column is added in one place.
 */
interface ExtraColumns {
    /** {@code prompt_2}. */
    String prompt2();

    /** {@code negative_prompt_2}. */
    String negativePrompt2();

    /** {@code prompt_3}. */
    String prompt3();

    /** {@code negative_prompt_3}. */
    String negativePrompt3();

    /** {@code max_sequence_length}. */
    Integer maxSequenceLength();

    /** {@code original_width}. */
    Integer originalWidth();

    /** {@code original_height}. */
    Integer originalHeight();

    /** {@code crop_top}. */
    Integer cropTop();

    /** {@code crop_left}. */
    Integer cropLeft();

    /** {@code target_width}. */
    Integer targetWidth();

    /** {@code target_height}. */
    Integer targetHeight();

    /** {@code guidance_rescale}. */
    Double guidanceRescale();

    /**
     * The value of {@code fields}' column, one of {@link ExtraConditioning#COLUMNS} (static, so the
     * public records do not gain a second public {@code value} method).
     *
     * @throws IllegalArgumentException for any other name
     */
    static Object value(ExtraColumns fields, String column) {
        return switch (column) {
            case Columns.PROMPT_2 -> fields.prompt2();
            case Columns.NEGATIVE_PROMPT_2 -> fields.negativePrompt2();
            case Columns.PROMPT_3 -> fields.prompt3();
            case Columns.NEGATIVE_PROMPT_3 -> fields.negativePrompt3();
            case Columns.MAX_SEQUENCE_LENGTH -> fields.maxSequenceLength();
            case Columns.ORIGINAL_WIDTH -> fields.originalWidth();
            case Columns.ORIGINAL_HEIGHT -> fields.originalHeight();
            case Columns.CROP_TOP -> fields.cropTop();
            case Columns.CROP_LEFT -> fields.cropLeft();
            case Columns.TARGET_WIDTH -> fields.targetWidth();
            case Columns.TARGET_HEIGHT -> fields.targetHeight();
            case Columns.GUIDANCE_RESCALE -> fields.guidanceRescale();
            default ->
                    throw new IllegalArgumentException(
                            "column " + column + " is not an extra conditioning column");
        };
    }
}
