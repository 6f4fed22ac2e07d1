package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.springframework.test.context.DynamicPropertyRegistry;

import dev.postern.broker.testing.TestDovecot;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, written as PEM for the proxy's SSL bundle,
 * and a client {@link SSLContext} that trusts only it.
 */
final class TestMailCertificate {

    final Path certificate;

    final Path privateKey;

    final X509Certificate x509;

    private final java.security.PrivateKey key;

    private TestMailCertificate(Path certificate, Path privateKey, X509Certificate x509, java.security.PrivateKey key) {
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.x509 = x509;
        this.key = key;
    }

    static TestMailCertificate create() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256);
            KeyPair pair = generator.generateKeyPair();
            Instant now = Instant.now();
            X500Name name = new X500Name("CN=postern-mail-proxy-test");
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))), name, pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
            X509Certificate x509 = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            Path dir = Files.createTempDirectory("postern-mail-proxy-cert-");
            Path certificate = dir.resolve("proxy.crt");
            Path key = dir.resolve("proxy.key");
            Files.writeString(certificate, pem(x509));
            // PKCS#8, which every PEM reader takes.
            Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                    + java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                        .encodeToString(pair.getPrivate().getEncoded())
                    + "\n-----END PRIVATE KEY-----\n");
            return new TestMailCertificate(certificate, key, x509, pair.getPrivate());
        }
        catch (Exception ex) {
            throw new IllegalStateException("could not make the test certificate", ex);
        }
    }

    private static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    /**
     * The mail proxy switched on for a test's broker: TLS with this certificate, the peers' CA
     * trusted upstream (Dovecot's), all four listeners on free ports. Limits are the test's own.
     */
    void enableProxy(DynamicPropertyRegistry registry, TestDovecot peers) {
        registry.add("postern.mail-proxy.enabled", () -> "true");
        registry.add("spring.ssl.bundle.pem.mailproxy.keystore.certificate", () -> "file:" + certificate);
        registry.add("spring.ssl.bundle.pem.mailproxy.keystore.private-key", () -> "file:" + privateKey);
        registry.add("postern.mail-proxy.ssl-bundle", () -> "mailproxy");
        registry.add("spring.ssl.bundle.pem.mailupstream.truststore.certificate", () -> "file:" + peers.caFile());
        registry.add("postern.mail-proxy.upstream-ssl-bundle", () -> "mailupstream");
        // Free ports of the system's choosing: test classes run their own brokers side by side.
        for (String listener : new String[] { "imaps", "imap", "smtps", "submission" }) {
            registry.add("postern.mail-proxy." + listener + "-port", () -> "0");
        }
    }

    /** A server TLS context that presents this certificate. */
    SSLContext serverContext() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, new char[0], new java.security.cert.Certificate[] {x509});
            javax.net.ssl.KeyManagerFactory factory = javax.net.ssl.KeyManagerFactory
                .getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, new char[0]);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(factory.getKeyManagers(), null, null);
            return context;
        }
        catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** A client TLS context that trusts this certificate alone. */
    SSLContext clientContext() {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("proxy", x509);
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        }
        catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }
}
