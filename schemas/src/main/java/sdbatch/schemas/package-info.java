/**
 * Prompt-table and output-metadata schemas, row validation and sweep expansion: plain Java records
 * and pure functions. This module knows neither Spark nor DJL (enforced by the build), so every
 * rule here is unit-tested without either.
 */
package sdbatch.schemas;
