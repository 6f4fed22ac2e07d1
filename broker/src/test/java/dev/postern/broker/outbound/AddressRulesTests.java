package dev.postern.broker.outbound;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.postern.broker.outbound.AddressRules.Rule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The address classifier and the policy built on it, without a network. */
class AddressRulesTests {

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
            "169.254.169.254, METADATA", "fd00:ec2::254, METADATA", "[fd00:ec2::254], METADATA",
            "127.0.0.1, LOOPBACK", "127.9.9.9, LOOPBACK", "::1, LOOPBACK", "[::1], LOOPBACK",
            "0x7f000001, LOOPBACK", "2130706433, LOOPBACK", "017700000001, LOOPBACK", "127.1, LOOPBACK",
            "0x7f.0.0.1, LOOPBACK", "0177.0.0.01, LOOPBACK", "::ffff:127.0.0.1, LOOPBACK",
            "0.0.0.0, UNSPECIFIED", "0, UNSPECIFIED", "::, UNSPECIFIED",
            "169.254.1.1, LINK_LOCAL", "fe80::1, LINK_LOCAL",
            "10.0.0.1, PRIVATE", "10.255.255.255, PRIVATE", "172.16.0.1, PRIVATE", "172.31.255.1, PRIVATE",
            "192.168.1.1, PRIVATE", "::ffff:10.0.0.1, PRIVATE", "[::ffff:10.0.0.1], PRIVATE", "::ffff:a00:1, PRIVATE",
            "::10.0.0.1, PRIVATE", "64:ff9b::10.0.0.1, PRIVATE", "0x0a000001, PRIVATE", "167772161, PRIVATE",
            "012.0.0.1, PRIVATE", "10.1, PRIVATE",
            "100.64.0.1, CGNAT", "100.127.255.255, CGNAT",
            "fd00::, ULA", "fd00::1, ULA", "fc00::1, ULA",
            "224.0.0.1, MULTICAST", "255.255.255.255, MULTICAST", "ff02::1, MULTICAST",
            "240.0.0.1, RESERVED" })
    void nonPublicAddressesInEveryFormAreNamedByTheirRule(String host, Rule rule) {
        InetAddress address = AddressRules.literal(host);
        assertThat(address).as(host + " is a literal").isNotNull();
        assertThat(AddressRules.violatedBy(address)).isEqualTo(rule);
    }

    @ParameterizedTest
    @CsvSource({ "1.1.1.1", "8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "192.169.0.1",
            "2606:4700:4700::1111", "::ffff:8.8.8.8", "20.190.160.1" })
    void publicAddressesPass(String host) {
        assertThat(AddressRules.violatedBy(AddressRules.literal(host))).isNull();
    }

    @ParameterizedTest
    @CsvSource({ "login.microsoftonline.com", "oauth2.googleapis.com", "idp.example.com", "0x7g000001", "1.2.3.4.5",
            "256.1.1.1", "4294967296" })
    void namesAndNonNumbersAreNotLiterals(String host) {
        assertThat(AddressRules.literal(host)).isNull();
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({ "localhost, LOOPBACK", "LOCALHOST., LOOPBACK", "x.localhost, LOOPBACK",
            "metadata.google.internal, METADATA", "metadata.google.internal., METADATA", "metadata, METADATA",
            "kubernetes.default.svc, INTERNAL_NAME", "kubernetes.default.svc.cluster.local, INTERNAL_NAME",
            "kubernetes, INTERNAL_NAME", "printer.local, INTERNAL_NAME", "db.corp.internal, INTERNAL_NAME" })
    void internalNamesAreRefusedByName(String host, Rule rule) {
        assertThat(AddressRules.violatedByName(host)).isEqualTo(rule);
    }

    @Test
    void publicNamesPassByName() {
        assertThat(AddressRules.violatedByName("login.microsoftonline.com")).isNull();
        assertThat(AddressRules.violatedByName("accounts.google.com")).isNull();
    }

    @Test
    void thePolicyRefusesPlainHttpAndNonPublicLiteralsUnlessAllowListed() throws Exception {
        OutboundPolicy none = new OutboundPolicy(new OutboundProperties(List.of()));
        assertRefused(none, "http://idp.example.com/token", Rule.HTTPS_ONLY);
        assertRefused(none, "https://10.0.0.1/token", Rule.PRIVATE);
        assertRefused(none, "https://0x7f000001/token", Rule.LOOPBACK);
        assertRefused(none, "https://2130706433/token", Rule.LOOPBACK);
        assertRefused(none, "https://017700000001/token", Rule.LOOPBACK);
        assertRefused(none, "https://[fd00::1]/token", Rule.ULA);
        assertRefused(none, "https://[::ffff:10.0.0.1]/token", Rule.PRIVATE);
        assertRefused(none, "https://169.254.169.254/latest/meta-data/", Rule.METADATA);
        assertRefused(none, "https://kubernetes.default.svc/api", Rule.INTERNAL_NAME);
        assertRefused(none, "https://localhost:8443/token", Rule.LOOPBACK);
        assertThat(none.checkUrl(URI.create("https://login.microsoftonline.com/x"))).isEqualTo("login.microsoftonline.com");

        OutboundPolicy tests = new OutboundPolicy(new OutboundProperties(List.of("127.0.0.1", "10.1.0.0/16", "idp.corp")));
        assertThat(tests.checkUrl(URI.create("http://127.0.0.1:8080/token"))).isNull();
        assertThat(tests.checkUrl(URI.create("https://0x7f000001/token"))).as("the same address, another form").isNull();
        assertThat(tests.checkUrl(URI.create("https://10.1.2.3/token"))).isNull();
        assertThat(tests.checkUrl(URI.create("https://IDP.corp./token"))).isNull();
        assertRefused(tests, "https://10.2.0.1/token", Rule.PRIVATE);
        assertRefused(tests, "https://127.0.0.2/token", Rule.LOOPBACK);
        assertRefused(tests, "ftp://127.0.0.1/token", Rule.HTTPS_ONLY);
    }

    /** The check at connect time: the address the socket reached, whatever the name said. */
    @Test
    void aConnectionToANonPublicAddressIsClosedBeforeTls() throws Exception {
        OutboundPolicy none = new OutboundPolicy(new OutboundProperties(List.of()));
        CheckingSocketFactory factory = new CheckingSocketFactory(SSLContext.getDefault().getSocketFactory(), none);
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket plain = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            assertThatThrownBy(() -> factory.createSocket(plain, "idp.example.com", server.getLocalPort(), true))
                .isInstanceOfSatisfying(EndpointNotAllowedException.class,
                        ex -> assertThat(ex.rule()).isEqualTo(Rule.LOOPBACK));
            assertThat(plain.isClosed()).isTrue();
        }
        assertThatThrownBy(() -> factory.createSocket()).isInstanceOf(IOException.class)
            .hasCauseInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> factory.createSocket("idp.example.com", 443)).isInstanceOf(IOException.class);
    }

    private static void assertRefused(OutboundPolicy policy, String url, Rule rule) {
        assertThatThrownBy(() -> policy.checkUrl(URI.create(url))).as(url)
            .isInstanceOfSatisfying(EndpointNotAllowedException.class, ex -> assertThat(ex.rule()).isEqualTo(rule));
    }
}
