/**
 * The expiry scan, thresholds, notifiers, metrics and health.
 */
@NullMarked
package dev.postern.broker.expiry;

import org.jspecify.annotations.NullMarked;
