/**
 * API clients and keys, roles, and which client may read which mailbox.
 */
@NullMarked
package dev.postern.broker.access;

import org.jspecify.annotations.NullMarked;
