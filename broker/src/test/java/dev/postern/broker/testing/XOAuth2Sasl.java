package dev.postern.broker.testing;

import java.nio.charset.StandardCharsets;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslClientFactory;
import javax.security.sasl.SaslException;

/**
 * SASL XOAUTH2 for Angus Mail's SMTP client that sends the response after the server's {@code 334}
 * instead of on the AUTH line.
 *
 * <p>Why: Angus Mail 2.0.5's built-in XOAUTH2 for SMTP ({@code SMTPTransport.OAuth2Authenticator},
 * through {@code Authenticator.authenticate}) always sends {@code AUTH XOAUTH2 <initial response>}
 * on one line; the {@code mail.*.auth.xoauth2.two.line.authentication.format} switch exists only in
 * its POP3 {@code Protocol}. Dovecot's submission-login refuses a command line above about 1 KB
 * ({@code 500 5.5.2 Line too long}) and real access tokens are 1 to 2.5 KB. Angus's SASL path
 * ({@code SMTPSaslAuthenticator}) sends a bare {@code AUTH XOAUTH2} when the SASL client has no
 * initial response, then answers each 334 with {@link SaslClient#evaluateChallenge}: this client
 * answers the first with the XOAUTH2 string and the error challenge of a refused login with an
 * empty line, as RFC 7628 asks.
 *
 * <p>Enable with {@code mail.smtp.sasl.enable=true} and {@code mail.smtp.sasl.mechanisms=XOAUTH2}
 * after {@link #install()}; user name and password (the access token) come from
 * {@code Transport.connect} through Angus's callback handler.
 */
public final class XOAuth2Sasl {

    private static final String PROVIDER_NAME = "PosternTestXOAuth2";

    private XOAuth2Sasl() {
    }

    /** Registers the SASL client factory with the JVM's security providers, once. */
    public static synchronized void install() {
        if (Security.getProvider(PROVIDER_NAME) == null) {
            Security.addProvider(new XOAuth2Provider());
        }
    }

    /** The XOAUTH2 initial client response: {@code user=U^Aauth=Bearer T^A^A} (before base64). */
    public static byte[] response(String user, String accessToken) {
        return ("user=" + user + "\u0001auth=Bearer " + accessToken + "\u0001\u0001").getBytes(StandardCharsets.UTF_8);
    }

    static final class XOAuth2Provider extends Provider {

        XOAuth2Provider() {
            super(PROVIDER_NAME, "1.0", "SASL XOAUTH2 client for Postern's tests");
            put("SaslClientFactory.XOAUTH2", Factory.class.getName());
        }
    }

    /** Found by {@code javax.security.sasl.Sasl} through the provider; needs a public no-arg constructor. */
    public static final class Factory implements SaslClientFactory {

        @Override
        public SaslClient createSaslClient(String[] mechanisms, String authorizationId, String protocol,
                String serverName, Map<String, ?> props, CallbackHandler handler) {
            return Arrays.asList(mechanisms).contains("XOAUTH2") ? new Client(handler) : null;
        }

        @Override
        public String[] getMechanismNames(Map<String, ?> props) {
            return new String[] { "XOAUTH2" };
        }
    }

    static final class Client implements SaslClient {

        private final CallbackHandler handler;

        private boolean sent;

        Client(CallbackHandler handler) {
            this.handler = handler;
        }

        @Override
        public String getMechanismName() {
            return "XOAUTH2";
        }

        @Override
        public boolean hasInitialResponse() {
            return false;
        }

        @Override
        public byte[] evaluateChallenge(byte[] challenge) throws SaslException {
            if (sent) {
                // The server's error challenge (JSON) after a refused token: end the exchange.
                return new byte[0];
            }
            NameCallback name = new NameCallback("user");
            PasswordCallback password = new PasswordCallback("access token", false);
            try {
                handler.handle(new Callback[] { name, password });
            }
            catch (Exception ex) {
                throw new SaslException("no user name and access token for XOAUTH2", ex);
            }
            sent = true;
            char[] token = password.getPassword();
            password.clearPassword();
            return response(name.getName(), token == null ? "" : new String(token));
        }

        @Override
        public boolean isComplete() {
            return sent;
        }

        @Override
        public byte[] unwrap(byte[] incoming, int offset, int len) {
            throw new IllegalStateException("XOAUTH2 has no security layer");
        }

        @Override
        public byte[] wrap(byte[] outgoing, int offset, int len) {
            throw new IllegalStateException("XOAUTH2 has no security layer");
        }

        @Override
        public Object getNegotiatedProperty(String propName) {
            return null;
        }

        @Override
        public void dispose() {
        }
    }
}
