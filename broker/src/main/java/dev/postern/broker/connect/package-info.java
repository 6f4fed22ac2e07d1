/**
 * The authorization-code flow with PKCE and state: connect links for mailbox owners and the callback.
 */
@NullMarked
package dev.postern.broker.connect;

import org.jspecify.annotations.NullMarked;
