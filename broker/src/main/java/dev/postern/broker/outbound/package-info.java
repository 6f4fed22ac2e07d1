/**
 * Every HTTP call Postern makes to a peer it does not run (identity providers, Microsoft Graph,
 * webhooks) goes through one client here, which refuses non-public destinations, plain http,
 * redirects, large answers and slow answers.
 */
@NullMarked
package dev.postern.broker.outbound;

import org.jspecify.annotations.NullMarked;
