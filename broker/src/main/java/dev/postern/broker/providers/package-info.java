/**
 * One token provider per identity provider: Microsoft (msal4j), Google and generic OAuth2.
 */
@NullMarked
package dev.postern.broker.providers;

import org.jspecify.annotations.NullMarked;
