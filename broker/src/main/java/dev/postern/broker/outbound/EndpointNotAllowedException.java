package dev.postern.broker.outbound;

import java.io.IOException;

/**
 * An outbound destination or answer that a rule refused. An {@link IOException}, so it passes
 * unchanged through the JDK's connection code and HTTP clients; its message names the rule and
 * the host, never anything the destination answered.
 */
public class EndpointNotAllowedException extends IOException {

    private static final long serialVersionUID = 1L;

    private final AddressRules.Rule rule;

    public EndpointNotAllowedException(AddressRules.Rule rule, String message) {
        super(message);
        this.rule = rule;
    }

    /** The rule that refused the call. */
    public AddressRules.Rule rule() {
        return rule;
    }
}
