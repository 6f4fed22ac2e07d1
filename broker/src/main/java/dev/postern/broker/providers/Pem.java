package dev.postern.broker.providers;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM reading and writing of keys and certificates, through Bouncy Castle. */
public final class Pem {

    private Pem() {
    }

    /** The PEM form of a certificate, or of a private key as PKCS#8 ({@code PRIVATE KEY}). */
    public static String write(Object keyOrCertificate) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            if (keyOrCertificate instanceof PrivateKey key) {
                writer.writeObject(new JcaPKCS8Generator(key, null));
            }
            else {
                writer.writeObject(keyOrCertificate);
            }
        }
        catch (IOException ex) {
            throw new IllegalStateException("cannot write PEM", ex);
        }
        return out.toString();
    }

    /** The PKCS#8 private key in {@code pem}. */
    public static PrivateKey privateKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            if (object instanceof PrivateKeyInfo info) {
                return new JcaPEMKeyConverter().getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return new JcaPEMKeyConverter().getPrivateKey(pair.getPrivateKeyInfo());
            }
            throw new IllegalArgumentException("not a PKCS#8 private key");
        }
        catch (IOException ex) {
            throw new IllegalArgumentException("not a readable private key", ex);
        }
    }

    /** The X.509 certificate in {@code pem}. */
    public static X509Certificate certificate(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            if (object instanceof X509CertificateHolder holder) {
                return new JcaX509CertificateConverter().getCertificate(holder);
            }
            throw new IllegalArgumentException("not an X.509 certificate");
        }
        catch (IOException | CertificateException ex) {
            throw new IllegalArgumentException("not a readable certificate", ex);
        }
    }
}
