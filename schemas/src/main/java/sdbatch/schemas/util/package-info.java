/**
 * Small helpers every module needs (SHA-256 hex, deleting a folder tree, {@link
 * sdbatch.schemas.util.RecordCopier}: a record's copy-with through a checked mutable mirror), kept
 * here because schemas is the module all others depend on; nothing in it knows schemas, Spark or
 * DJL.
 */
package sdbatch.schemas.util;
