/**
 * Row validation as a pure function: {@link sdbatch.schemas.validate.RowValidator} turns a prompt
 * row and the model's {@link sdbatch.schemas.validate.RequestDefaults} into Valid or Invalid
 * (column, value, rule) and never throws on bad data, so an invalid row becomes a metadata row with
 * {@code status = invalid} instead of a failed task.
 */
package sdbatch.schemas.validate;
