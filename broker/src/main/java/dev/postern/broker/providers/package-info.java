/**
 * One token provider per identity provider: Google and generic OAuth2 here, Microsoft (msal4j) in
 * {@code providers.microsoft}.
 */
@NullMarked
package dev.postern.broker.providers;

import org.jspecify.annotations.NullMarked;
