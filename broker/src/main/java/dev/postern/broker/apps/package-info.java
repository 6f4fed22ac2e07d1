/**
 * OAuth app registrations and their credentials (client secrets, certificates) with expiry dates, versions and rotation.
 */
@NullMarked
package dev.postern.broker.apps;

import org.jspecify.annotations.NullMarked;
