/**
 * Tests of the {@code deploy/} folder: the spark-submit wrappers' {@code --dry-run} output,
 * shellcheck on every script, the GPU discovery script's JSON, and the Kubernetes YAML.
 */
package sdbatch.deploy;
