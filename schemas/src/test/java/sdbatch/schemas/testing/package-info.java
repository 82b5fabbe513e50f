/** Test helpers of the schemas module, shared with the other modules' tests via its test-jar. */
package sdbatch.schemas.testing;
