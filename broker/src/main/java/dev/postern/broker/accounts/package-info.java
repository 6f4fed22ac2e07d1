/**
 * Connected mailboxes: provider, address, status and last refresh.
 */
@NullMarked
package dev.postern.broker.accounts;

import org.jspecify.annotations.NullMarked;
