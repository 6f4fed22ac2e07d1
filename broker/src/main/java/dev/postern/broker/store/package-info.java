/**
 * Versioned, compare-and-set storage of secret documents: Vault (KV v2 and Transit) or one encrypted local file. Nothing else touches Vault.
 */
@NullMarked
package dev.postern.broker.store;

import org.jspecify.annotations.NullMarked;
