package dev.postern.broker.outbound;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

import org.jspecify.annotations.Nullable;
import org.springframework.security.web.util.matcher.IpAddressMatcher;

/**
 * Which addresses and host names are not public: the rules an outbound destination must pass
 * unless {@code postern.outbound.allowed-hosts} lists it. Each rule has a stable name that error
 * messages quote, so an admin learns which rule refused an endpoint and nothing else.
 */
public final class AddressRules {

    /** A rule a destination broke. */
    public enum Rule {
        HTTPS_ONLY("https-only", "only https URLs are called"),
        METADATA("metadata", "a cloud metadata address"),
        LOOPBACK("loopback", "a loopback address"),
        UNSPECIFIED("unspecified", "the unspecified address"),
        LINK_LOCAL("link-local", "a link-local address"),
        PRIVATE("private", "a private address (10/8, 172.16/12, 192.168/16)"),
        CGNAT("cgnat", "a carrier-grade NAT address (100.64/10)"),
        ULA("unique-local", "an IPv6 unique local address (fc00::/7)"),
        MULTICAST("multicast", "a multicast or broadcast address"),
        RESERVED("reserved", "a reserved address"),
        INTERNAL_NAME("internal-name", "a cluster-internal or local host name"),
        REDIRECT("redirect", "redirects are not followed"),
        TOO_LARGE("too-large", "the answer is larger than 256 KiB");

        private final String code;

        private final String description;

        Rule(String code, String description) {
            this.code = code;
            this.description = description;
        }

        /** The stable name, such as {@code private}. */
        public String code() {
            return code;
        }

        /** What it means, for people. */
        public String description() {
            return description;
        }
    }

    private record Block(IpAddressMatcher block, Rule rule) {
    }

    // Order matters: the first match names the rule (the metadata addresses are also link-local / ULA).
    private static final List<Block> BLOCKS = List.of(
            new Block(new IpAddressMatcher("169.254.169.254/32"), Rule.METADATA),
            new Block(new IpAddressMatcher("fd00:ec2::254/128"), Rule.METADATA),
            new Block(new IpAddressMatcher("100.100.100.200/32"), Rule.METADATA),
            new Block(new IpAddressMatcher("127.0.0.0/8"), Rule.LOOPBACK),
            new Block(new IpAddressMatcher("::1/128"), Rule.LOOPBACK),
            new Block(new IpAddressMatcher("0.0.0.0/8"), Rule.UNSPECIFIED),
            new Block(new IpAddressMatcher("::/128"), Rule.UNSPECIFIED),
            new Block(new IpAddressMatcher("169.254.0.0/16"), Rule.LINK_LOCAL),
            new Block(new IpAddressMatcher("fe80::/10"), Rule.LINK_LOCAL),
            new Block(new IpAddressMatcher("10.0.0.0/8"), Rule.PRIVATE),
            new Block(new IpAddressMatcher("172.16.0.0/12"), Rule.PRIVATE),
            new Block(new IpAddressMatcher("192.168.0.0/16"), Rule.PRIVATE),
            new Block(new IpAddressMatcher("fec0::/10"), Rule.PRIVATE),
            new Block(new IpAddressMatcher("100.64.0.0/10"), Rule.CGNAT),
            new Block(new IpAddressMatcher("fc00::/7"), Rule.ULA),
            new Block(new IpAddressMatcher("224.0.0.0/4"), Rule.MULTICAST),
            new Block(new IpAddressMatcher("255.255.255.255/32"), Rule.MULTICAST),
            new Block(new IpAddressMatcher("ff00::/8"), Rule.MULTICAST),
            new Block(new IpAddressMatcher("192.0.0.0/24"), Rule.RESERVED),
            new Block(new IpAddressMatcher("198.18.0.0/15"), Rule.RESERVED),
            new Block(new IpAddressMatcher("240.0.0.0/4"), Rule.RESERVED),
            new Block(new IpAddressMatcher("100::/64"), Rule.RESERVED));

    private AddressRules() {
    }

    /** The rule {@code address} breaks, or {@code null} when it is a public address. */
    public static @Nullable Rule violatedBy(InetAddress address) {
        InetAddress checked = embeddedIpv4(address);
        for (Block block : BLOCKS) {
            if (block.block().matches(checked.getHostAddress())) {
                return block.rule();
            }
        }
        return null;
    }

    /**
     * The rule a host name breaks by its name alone, or {@code null}: {@code localhost}, names
     * without a dot (resolved through search domains to cluster services), and the suffixes of
     * cluster-internal names ({@code .svc}, {@code .local}, {@code .internal}, which includes
     * {@code metadata.google.internal}).
     */
    public static @Nullable Rule violatedByName(String host) {
        String name = normalisedName(host);
        if (name.equals("localhost") || name.endsWith(".localhost")) {
            return Rule.LOOPBACK;
        }
        if (name.equals("metadata.google.internal") || name.equals("metadata")) {
            return Rule.METADATA;
        }
        if (!name.contains(".") || name.endsWith(".svc") || name.contains(".svc.") || name.endsWith(".local")
                || name.endsWith(".internal") || name.endsWith(".localdomain") || name.endsWith(".home.arpa")) {
            return Rule.INTERNAL_NAME;
        }
        return null;
    }

    /** A host name lower-cased, without brackets and without a trailing dot. */
    static String normalisedName(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        while (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name;
    }

    /**
     * The address a host written as an IP literal stands for, in every form a resolver accepts:
     * IPv6 (with or without brackets) and IPv4 as {@code inet_aton} reads it, so
     * {@code 0x7f000001}, {@code 2130706433}, {@code 017700000001} and {@code 127.1} are all
     * 127.0.0.1. {@code null} for a host name.
     */
    public static @Nullable InetAddress literal(String host) {
        String name = normalisedName(host);
        if (name.indexOf(':') >= 0) {
            try {
                return InetAddress.ofLiteral(name);
            }
            catch (IllegalArgumentException ex) {
                return null;
            }
        }
        return numericIpv4(name);
    }

    /** {@code inet_aton}: one to four parts, each decimal, octal (leading 0) or hex (0x); the last fills the rest. */
    static @Nullable InetAddress numericIpv4(String name) {
        if (name.isEmpty() || !name.matches("[0-9a-fx.]+") || name.endsWith(".") || name.contains("..")) {
            return null;
        }
        String[] parts = name.split("\\.");
        if (parts.length > 4) {
            return null;
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Long value = number(parts[i]);
            if (value == null) {
                return null;
            }
            values[i] = value;
        }
        long address = 0;
        for (int i = 0; i < parts.length - 1; i++) {
            if (values[i] > 0xff) {
                return null;
            }
            address |= values[i] << (24 - 8 * i);
        }
        long last = values[parts.length - 1];
        long lastMax = (1L << (8 * (5 - parts.length))) - 1;
        if (last > lastMax) {
            return null;
        }
        address |= last;
        byte[] bytes = { (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address };
        try {
            return InetAddress.getByAddress(bytes);
        }
        catch (UnknownHostException ex) {
            throw new IllegalStateException("four bytes are always an address", ex);
        }
    }

    private static @Nullable Long number(String part) {
        try {
            if (part.startsWith("0x")) {
                return part.length() == 2 ? 0L : Long.parseLong(part.substring(2), 16);
            }
            if (part.length() > 1 && part.startsWith("0")) {
                return Long.parseLong(part.substring(1), 8);
            }
            return Long.parseLong(part, 10);
        }
        catch (NumberFormatException ex) {
            return null;
        }
    }

    /**
     * The IPv4 address inside an IPv4-mapped ({@code ::ffff:a.b.c.d}), IPv4-compatible
     * ({@code ::a.b.c.d}) or NAT64 ({@code 64:ff9b::a.b.c.d}) IPv6 address, else the address itself.
     */
    static InetAddress embeddedIpv4(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] b = address.getAddress();
        boolean zeroPrefix = true;
        for (int i = 0; i < 10; i++) {
            zeroPrefix &= b[i] == 0;
        }
        boolean mapped = zeroPrefix && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
        boolean compatible = zeroPrefix && b[10] == 0 && b[11] == 0
                && ((b[12] | b[13] | b[14]) != 0 || (b[15] & 0xff) > 1);
        boolean nat64 = (b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
        for (int i = 4; nat64 && i < 12; i++) {
            nat64 = b[i] == 0;
        }
        if (!(mapped || compatible || nat64)) {
            return address;
        }
        try {
            return InetAddress.getByAddress(new byte[] { b[12], b[13], b[14], b[15] });
        }
        catch (UnknownHostException ex) {
            throw new IllegalStateException("four bytes are always an address", ex);
        }
    }
}
