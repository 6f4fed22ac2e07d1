package dev.postern.broker.apps;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.springframework.stereotype.Component;

import dev.postern.broker.providers.Pem;

/**
 * Generates a key pair and a self-signed X.509 certificate with Bouncy Castle, for an app that
 * proves itself to Entra ID with a certificate instead of a client secret.
 */
@Component
class CertificateGenerator {

    private final SecureRandom random = new SecureRandom();

    /** The kinds of key Postern generates. */
    enum KeyAlgorithm {
        RSA_3072, EC_P256
    }

    /**
     * A generated certificate: the public part to upload, and the private key to store.
     *
     * @param info the public part
     * @param privateKeyPem the PKCS#8 private key, PEM
     * @param notAfter when the certificate expires
     */
    record GeneratedCertificate(Credential.CertificateInfo info, String privateKeyPem, Instant notAfter) {

        @Override
        public String toString() {
            return "GeneratedCertificate[" + info.sha1Thumbprint() + ", private key (redacted)]";
        }
    }

    GeneratedCertificate generate(String commonName, KeyAlgorithm algorithm, Instant notBefore, Instant notAfter) {
        try {
            KeyPair keys = keyPair(algorithm);
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName)
                .addRDN(BCStyle.O, "Postern")
                .build();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(128, random).abs(), Date.from(notBefore), Date.from(notAfter), subject,
                    keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            String signature = algorithm == KeyAlgorithm.RSA_3072 ? "SHA256withRSA" : "SHA256withECDSA";
            X509Certificate certificate = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder(signature).build(keys.getPrivate())));
            byte[] der = certificate.getEncoded();
            Credential.CertificateInfo info = new Credential.CertificateInfo(Pem.write(certificate),
                    thumbprint("SHA-1", der), thumbprint("SHA-256", der), algorithm.name(), subject.toString());
            return new GeneratedCertificate(info, Pem.write(keys.getPrivate()), certificate.getNotAfter().toInstant());
        }
        catch (GeneralSecurityException | OperatorCreationException | java.io.IOException ex) {
            throw new IllegalStateException("could not generate a certificate", ex);
        }
    }

    private KeyPair keyPair(KeyAlgorithm algorithm) throws GeneralSecurityException {
        if (algorithm == KeyAlgorithm.RSA_3072) {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(3072, random);
            return generator.generateKeyPair();
        }
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        return generator.generateKeyPair();
    }

    private static String thumbprint(String algorithm, byte[] der) throws GeneralSecurityException {
        return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance(algorithm).digest(der));
    }
}
