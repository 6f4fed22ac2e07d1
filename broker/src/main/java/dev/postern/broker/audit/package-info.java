/**
 * The audit trail: who did what to which object, never a secret.
 */
@NullMarked
package dev.postern.broker.audit;

import org.jspecify.annotations.NullMarked;
