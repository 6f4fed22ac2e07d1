package dev.postern.broker.providers;

/** How an app proves itself at the token endpoint: a client secret or a certificate. */
public sealed interface ClientAuthentication {

    /** A client secret. */
    record Secret(String value) implements ClientAuthentication {

        @Override
        public String toString() {
            return "Secret[(redacted)]";
        }
    }

    /** A certificate and its private key, both PEM. */
    record Certificate(String privateKeyPem, String certificatePem) implements ClientAuthentication {

        @Override
        public String toString() {
            return "Certificate[(private key redacted)]";
        }
    }
}
