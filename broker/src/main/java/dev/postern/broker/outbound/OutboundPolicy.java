package dev.postern.broker.outbound;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.springframework.security.web.util.matcher.IpAddressMatcher;
import org.springframework.stereotype.Component;

/**
 * Decides whether Postern may call a destination: https to a public address, unless
 * {@code postern.outbound.allowed-hosts} lists the host name or address. Checked twice: on the
 * URL when an admin stores it (resolving the name, for a clear error early), and on the address
 * a connection actually reached (see {@link OutboundHttp}), which is what DNS rebinding cannot fool.
 */
@Component
public class OutboundPolicy {

    private final Set<String> allowedNames = new HashSet<>();

    private final List<IpAddressMatcher> allowedBlocks = new ArrayList<>();

    public OutboundPolicy(OutboundProperties properties) {
        for (String entry : properties.allowedHosts()) {
            String value = entry.strip();
            if (value.isEmpty()) {
                continue;
            }
            if (AddressRules.literal(value.contains("/") ? value.substring(0, value.indexOf('/')) : value) != null) {
                allowedBlocks.add(new IpAddressMatcher(value));
            }
            else {
                allowedNames.add(AddressRules.normalisedName(value));
            }
        }
    }

    /**
     * Checks a URL before it is stored: scheme, host name, and every address the name resolves
     * to now. A name that does not resolve yet passes here; the call-time check still applies.
     */
    public void checkStored(URI url) throws EndpointNotAllowedException {
        String host = checkUrl(url);
        if (host == null) {
            return;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(AddressRules.normalisedName(host));
        }
        catch (UnknownHostException | SecurityException ex) {
            return;
        }
        for (InetAddress address : addresses) {
            checkAddress(host, address);
        }
    }

    /**
     * Checks a URL before a call, without resolving it (the connection is checked once made).
     * Returns the host to check the connection against, or {@code null} when the allow-list
     * exempts the destination.
     */
    @Nullable String checkUrl(URI url) throws EndpointNotAllowedException {
        String host = url.getHost();
        if (!url.isAbsolute() || host == null || url.getRawUserInfo() != null) {
            throw new EndpointNotAllowedException(AddressRules.Rule.HTTPS_ONLY,
                    "an outbound URL must be absolute, with a host and without credentials");
        }
        String scheme = url.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (allowed(host, AddressRules.literal(host))) {
            if (!scheme.equals("https") && !scheme.equals("http")) {
                throw refused(AddressRules.Rule.HTTPS_ONLY, host);
            }
            return null;
        }
        if (!scheme.equals("https")) {
            throw refused(AddressRules.Rule.HTTPS_ONLY, host);
        }
        InetAddress literal = AddressRules.literal(host);
        if (literal != null) {
            checkAddress(host, literal);
            return host;
        }
        AddressRules.Rule byName = AddressRules.violatedByName(host);
        if (byName != null) {
            throw refused(byName, host);
        }
        return host;
    }

    /** Checks the address a connection to {@code host} reached. */
    void checkAddress(String host, InetAddress address) throws EndpointNotAllowedException {
        if (allowed(host, address)) {
            return;
        }
        AddressRules.Rule rule = AddressRules.violatedBy(address);
        if (rule != null) {
            throw refused(rule, host);
        }
    }

    private boolean allowed(String host, @Nullable InetAddress address) {
        if (allowedNames.contains(AddressRules.normalisedName(host))) {
            return true;
        }
        return address != null && allowedBlocks.stream()
            .anyMatch(block -> block.matches(AddressRules.embeddedIpv4(address).getHostAddress()));
    }

    private static EndpointNotAllowedException refused(AddressRules.Rule rule, String host) {
        return new EndpointNotAllowedException(rule, "the destination " + host + " is refused by the rule '"
                + rule.code() + "' (" + rule.description() + "); postern.outbound.allowed-hosts can exempt it");
    }
}
