/**
 * Cross-cutting HTTP: RFC 9457 problem responses, request ids, the admin UI's routes.
 */
@NullMarked
package dev.postern.broker.web;

import org.jspecify.annotations.NullMarked;
