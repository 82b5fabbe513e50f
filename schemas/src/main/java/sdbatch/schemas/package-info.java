/**
 * Prompt-table and output-metadata schemas, row validation and sweep expansion: plain Java records
 * and pure functions. This module knows neither Spark nor DJL (enforced by the build), so every
 * rule here is unit-tested without either.
 *
 * <p>The generation parameters (prompt, seed, steps, ..., one per {@link sdbatch.schemas.Columns}
 * input column) are one record, {@link sdbatch.schemas.GenerationParameters}, held by an input
 * {@link sdbatch.schemas.PromptRow}, a metadata {@link sdbatch.schemas.ResultRow} and given by a
 * resolved {@link sdbatch.schemas.GenerationRequest}. A new parameter (SDXL's sizes, img2img's
 * strength) is a column in {@code Columns}, a component there and in {@code GenerationRequest}, and
 * its rule in {@code validate.RowValidator}.
 *
 * <p>img2img and inpainting requests carry their pictures as {@link sdbatch.schemas.InputPictures}:
 * the locations the job resolved, the SHA-256 of each picture's bytes (what image ids hash), the
 * strength and paste-back. Reading the pictures is the job's; this module only names them. The SDXL
 * and SD3 columns and guidance rescale (issues 16, 19) ride on a request as {@link
 * sdbatch.schemas.ExtraConditioning}, null when none is set, so older requests keep their ids.
 */
package sdbatch.schemas;
