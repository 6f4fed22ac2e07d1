package dev.postern.broker.store;

/**
 * A document as read from the store, with the version a compare-and-set write must name.
 *
 * @param path where it was read
 * @param version the current version, starting at 1
 * @param document its content
 */
public record StoredDocument(SecretPath path, long version, SecretDocument document) {
}
