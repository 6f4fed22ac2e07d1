/**
 * The IMAP and SMTP submission proxy: mail programs log in with a mailbox address and a password,
 * Postern logs in upstream with the mailbox's OAuth token (XOAUTH2) and relays the session.
 */
@NullMarked
package dev.postern.broker.mailproxy;

import org.jspecify.annotations.NullMarked;
