package dev.postern.broker.outbound;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Outbound calls ({@code postern.outbound.*}).
 *
 * @param allowedHosts destinations exempt from the public-address and https rules: host names
 *        (matched exactly, case-insensitive), IP addresses or CIDR blocks ({@code 10.1.0.0/16}).
 *        The default is empty: only public addresses over https. Meant for tests and for an
 *        identity provider inside a private network the operator trusts.
 */
@ConfigurationProperties("postern.outbound")
public record OutboundProperties(@DefaultValue List<String> allowedHosts) {

    public OutboundProperties {
        allowedHosts = List.copyOf(allowedHosts);
    }
}
