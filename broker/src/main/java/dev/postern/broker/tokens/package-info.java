/**
 * Issuing access tokens: cache, single flight, refresh ahead, refresh-token rotation saved with CAS, XOAUTH2.
 */
@NullMarked
package dev.postern.broker.tokens;

import org.jspecify.annotations.NullMarked;
