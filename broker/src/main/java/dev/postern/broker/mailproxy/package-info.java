/**
 * The mail proxy for programs that only know a password: app passwords per mailbox (and, next,
 * the IMAP and SMTP listeners that log in upstream with XOAUTH2).
 */
@NullMarked
package dev.postern.broker.mailproxy;

import org.jspecify.annotations.NullMarked;
