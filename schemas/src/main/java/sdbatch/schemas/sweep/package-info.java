/**
 * Sweep flags ({@code --seeds 0-99,1234}, {@code --images-per-prompt}, {@code --guidance}, {@code
 * --steps}, {@code --schedulers}) and their deterministic expansion of one row into generation
 * requests, with the precedence row column &gt; flag &gt; model default.
 */
package sdbatch.schemas.sweep;
