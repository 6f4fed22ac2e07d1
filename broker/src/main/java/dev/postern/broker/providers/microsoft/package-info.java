/**
 * Everything Microsoft-specific: the token provider through msal4j, and Graph (the app-only
 * tokens and the read of an app's credentials that the expiry scan uses for Graph discovery).
 */
@NullMarked
package dev.postern.broker.providers.microsoft;

import org.jspecify.annotations.NullMarked;
