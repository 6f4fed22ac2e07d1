package dev.postern.broker.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import okhttp3.HttpUrl;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * A real OAuth 2.0 / OpenID Connect identity provider for tests: mock-oauth2-server in-process on
 * 127.0.0.1 over HTTPS with a self-signed certificate, as msal4j accepts only https authorities.
 * It hands out the trust material for that certificate and issues access tokens whose claims the
 * mail peers ({@link TestDovecot}) accept.
 */
public final class TestIdentityProvider implements AutoCloseable {

    /** The issuer id: mock-oauth2-server takes the first path segment as the issuer. */
    public static final String ISSUER_ID = "postern-test";

    /** The OAuth client the tokens are issued to: their {@code azp}, with a dot that Dovecot escapes in the key path. */
    public static final String CLIENT_ID = "postern-test.client";

    /** The scope TestDovecot requires in every token. */
    public static final String MAIL_SCOPE = "mail";

    /** The password of {@link #trustStoreFile()}; it holds only a public certificate. */
    public static final String TRUST_STORE_PASSWORD = "changeit";

    private static TestIdentityProvider shared;

    private final MockOAuth2Server server;

    private final KeyStore trustStore;

    private final Path trustStoreFile;

    private final Path caPemFile;

    private final String serverKeyPin;

    private TestIdentityProvider(MockOAuth2Server server, KeyStore trustStore, Path trustStoreFile, Path caPemFile,
            String serverKeyPin) {
        this.server = server;
        this.trustStore = trustStore;
        this.trustStoreFile = trustStoreFile;
        this.caPemFile = caPemFile;
        this.serverKeyPin = serverKeyPin;
    }

    /** The identity provider shared by every test of this JVM, started on first use. */
    public static synchronized TestIdentityProvider shared() {
        if (shared == null) {
            shared = start();
            TestIdentityProvider started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close));
        }
        return shared;
    }

    /** A new identity provider (new port, new signing keys); the caller closes it. */
    public static TestIdentityProvider start() {
        // RECIPES: "ssl":{} makes the server generate a self-signed certificate for localhost and
        // 127.0.0.1; rotateRefreshToken makes it behave like Microsoft for the broker's refresh code.
        OAuth2Config config = OAuth2Config.Companion.fromJson("{\"interactiveLogin\":false,"
                + "\"rotateRefreshToken\":true,\"httpServer\":{\"type\":\"MockWebServerWrapper\",\"ssl\":{}}}");
        long started = System.nanoTime();
        MockOAuth2Server server = new MockOAuth2Server(config);
        try {
            server.start(InetAddress.getByName("127.0.0.1"), 0);
        }
        catch (IOException | RuntimeException ex) {
            throw new IllegalStateException("could not start mock-oauth2-server on 127.0.0.1", ex);
        }
        try {
            KeyStore keyStore = config.getHttpServer().sslConfig().getSslKeystore().getKeyStore();
            KeyStore trustStore = KeyStore.getInstance("PKCS12");
            trustStore.load(null, null);
            StringBuilder pem = new StringBuilder();
            List<String> serverKeyPins = new ArrayList<>();
            int index = 0;
            for (Enumeration<String> aliases = keyStore.aliases(); aliases.hasMoreElements();) {
                String alias = aliases.nextElement();
                List<Certificate> chain = chain(keyStore, alias);
                if (!chain.isEmpty()) {
                    serverKeyPins.add(spkiSha256(chain.getFirst()));
                }
                for (Certificate certificate : chain) {
                    trustStore.setCertificateEntry("idp-" + index++, certificate);
                    pem.append("-----BEGIN CERTIFICATE-----\n")
                        .append(Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(certificate.getEncoded()))
                        .append("\n-----END CERTIFICATE-----\n");
                }
            }
            Path folder = Files.createTempDirectory("postern-test-idp-");
            Path trustStoreFile = folder.resolve("idp-truststore.p12");
            try (OutputStream out = Files.newOutputStream(trustStoreFile)) {
                trustStore.store(out, TRUST_STORE_PASSWORD.toCharArray());
            }
            Path caPemFile = Files.writeString(folder.resolve("idp-ca.pem"), pem);
            TestIdentityProvider idp = new TestIdentityProvider(server, trustStore, trustStoreFile, caPemFile,
                    String.join(",", serverKeyPins));
            System.out.println("[test-idp] mock-oauth2-server at " + idp.baseUrl() + ", issuer " + idp.issuerUrl()
                    + ", started in " + (System.nanoTime() - started) / 1_000_000 + " ms");
            return idp;
        }
        catch (IOException | GeneralSecurityException ex) {
            server.shutdown();
            throw new IllegalStateException("could not export the identity provider's certificate", ex);
        }
    }

    private static List<Certificate> chain(KeyStore keyStore, String alias) throws GeneralSecurityException {
        Certificate[] chain = keyStore.getCertificateChain(alias);
        if (chain != null) {
            return List.of(chain);
        }
        Certificate single = keyStore.getCertificate(alias);
        return single == null ? List.of() : List.of(single);
    }

    /** The base64 SHA-256 of a certificate's SubjectPublicKeyInfo: what Chromium's SPKI pins are made of. */
    private static String spkiSha256(Certificate certificate) throws GeneralSecurityException {
        // PublicKey.getEncoded() is the DER SubjectPublicKeyInfo of an X.509 certificate's key.
        return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded()));
    }

    /**
     * The server certificate's key as Chromium's {@code --ignore-certificate-errors-spki-list} takes
     * it (base64 SHA-256 of the SubjectPublicKeyInfo; comma-separated if the server had several):
     * a browser trusts exactly this key and still validates every other certificate.
     */
    public String serverKeyPin() {
        return serverKeyPin;
    }

    /** The server itself, for tests that need more of its API (enqueueCallback, takeRequest...). */
    public MockOAuth2Server server() {
        return server;
    }

    /** {@code https://127.0.0.1:PORT}, no trailing slash; the certificate names 127.0.0.1 and localhost. */
    public String baseUrl() {
        return stripSlash(loopback(server.baseUrl()).toString());
    }

    /** The issuer URL: the {@code iss} of every token and the prefix of the OIDC endpoints. */
    public String issuerUrl() {
        return stripSlash(loopback(server.issuerUrl(ISSUER_ID)).toString());
    }

    public String jwksUrl() {
        return loopback(server.jwksUrl(ISSUER_ID)).toString();
    }

    public String tokenEndpointUrl() {
        return loopback(server.tokenEndpointUrl(ISSUER_ID)).toString();
    }

    /**
     * The server names itself by the reverse lookup of its address ("localhost" here, but any name
     * /etc/hosts gives 127.0.0.1 elsewhere); tests use the address itself, which the certificate
     * also names, so the issuer is the same on every machine.
     */
    private static HttpUrl loopback(HttpUrl url) {
        return url.newBuilder().host("127.0.0.1").build();
    }

    /** A trust store holding the server's certificate. */
    public KeyStore trustStore() {
        return trustStore;
    }

    /** The same trust store as a PKCS12 file, password {@link #TRUST_STORE_PASSWORD}, for a broker's configuration. */
    public Path trustStoreFile() {
        return trustStoreFile;
    }

    /** The server's certificate as PEM, for non-Java clients (curl, Dovecot's key fetch). */
    public Path caPemFile() {
        return caPemFile;
    }

    /** An SSLContext that trusts the server, for HTTP clients in tests. */
    public SSLContext sslContext() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        }
        catch (GeneralSecurityException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * An access token for {@code mailbox} signed with the provider's key, valid for {@code ttl}
     * from now (a negative ttl gives a token that expired that long ago). The claims are the ones
     * Dovecot checks: {@code email} (its username attribute), {@code scope} (Dovecot 2.3 does not
     * read Microsoft's {@code scp}) and {@code token_type: Bearer}.
     */
    public String issueToken(String mailbox, List<String> scopes, Duration ttl) {
        DefaultOAuth2TokenCallback callback = mailboxCallback(ISSUER_ID, mailbox, scopes, ttl);
        // What MockOAuth2Server.issueToken(issuer, clientId, callback) does, with the 127.0.0.1 issuer
        // URL instead of the server's host name; like an authorization-code token it carries azp.
        TokenRequest request = new TokenRequest.Builder(URI.create(tokenEndpointUrl()),
                new ClientSecretBasic(new ClientID(CLIENT_ID), new Secret("secret")),
                new AuthorizationCodeGrant(new AuthorizationCode("test"), URI.create("https://127.0.0.1/callback")))
            .build();
        SignedJWT jwt = server.getConfig().getTokenProvider().accessToken(request,
                loopback(server.issuerUrl(ISSUER_ID)), callback, null);
        return jwt.serialize();
    }

    /**
     * Makes the next token the provider hands out over HTTP (any grant at its token endpoint) one
     * for {@code mailbox} with the claims of {@link #issueToken}, as if that mailbox had signed in.
     */
    public void nextTokenFor(String mailbox, List<String> scopes, Duration ttl) {
        server.enqueueCallback(mailboxCallback(ISSUER_ID, mailbox, scopes, ttl));
    }

    /**
     * {@link #nextTokenFor(String, List, Duration)} for another issuer id: the server hands an
     * enqueued callback only to a request of that issuer, and a Microsoft-style authority
     * {@code /{tenant}/oauth2/v2.0/...} is the issuer {@code {tenant}/oauth2/v2.0}.
     */
    public void nextTokenFor(String issuerId, String mailbox, List<String> scopes, Duration ttl) {
        server.enqueueCallback(mailboxCallback(issuerId, mailbox, scopes, ttl));
    }

    /**
     * {@link #nextTokenFor(String, List, Duration)}, and {@code whileIssuing} runs (once) inside the
     * provider's token endpoint while it answers that request: a code exchange held open.
     */
    public void nextTokenFor(String mailbox, List<String> scopes, Duration ttl, Runnable whileIssuing) {
        DefaultOAuth2TokenCallback claims = mailboxCallback(ISSUER_ID, mailbox, scopes, ttl);
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        server.enqueueCallback(new no.nav.security.mock.oauth2.token.OAuth2TokenCallback() {

            @Override
            public String issuerId() {
                return claims.issuerId();
            }

            @Override
            public String subject(com.nimbusds.oauth2.sdk.TokenRequest request) {
                if (ran.compareAndSet(false, true)) {
                    whileIssuing.run();
                }
                return claims.subject(request);
            }

            @Override
            public String typeHeader(com.nimbusds.oauth2.sdk.TokenRequest request) {
                return claims.typeHeader(request);
            }

            @Override
            public List<String> audience(com.nimbusds.oauth2.sdk.TokenRequest request) {
                return claims.audience(request);
            }

            @Override
            public Map<String, Object> addClaims(com.nimbusds.oauth2.sdk.TokenRequest request) {
                return claims.addClaims(request);
            }

            @Override
            public long tokenExpiry() {
                return claims.tokenExpiry();
            }
        });
    }

    private static DefaultOAuth2TokenCallback mailboxCallback(String issuerId, String mailbox, List<String> scopes,
            Duration ttl) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("email", mailbox);
        // A provider vouches for the address: Postern takes an e-mail claim only when it is verified.
        claims.put("email_verified", true);
        claims.put("preferred_username", mailbox);
        claims.put("scope", String.join(" ", scopes));
        claims.put("token_type", "Bearer");
        return new DefaultOAuth2TokenCallback(issuerId, mailbox, JOSEObjectType.JWT.getType(), List.of(CLIENT_ID),
                claims, ttl.toSeconds());
    }

    /** {@link #issueToken} with the mail scope and one hour. */
    public String issueToken(String mailbox) {
        return issueToken(mailbox, List.of(MAIL_SCOPE), Duration.ofHours(1));
    }

    /**
     * A token with the same claims and key id as a real one, but signed with a key the provider
     * never had: what an attacker without the provider's private key could make.
     */
    public String forgeToken(String mailbox, List<String> scopes, Duration ttl) {
        try {
            SignedJWT genuine = SignedJWT.parse(issueToken(mailbox, scopes, ttl));
            RSAKey attackerKey = new RSAKeyGenerator(2048).keyID(genuine.getHeader().getKeyID()).generate();
            JWTClaimsSet claims = new JWTClaimsSet.Builder(genuine.getJWTClaimsSet())
                .jwtID(UUID.randomUUID().toString())
                .build();
            SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID(attackerKey.getKeyID())
                .type(JOSEObjectType.JWT)
                .build(), claims);
            forged.sign(new RSASSASigner(attackerKey));
            return forged.serialize();
        }
        catch (java.text.ParseException | JOSEException ex) {
            throw new IllegalStateException("could not forge a token", ex);
        }
    }

    /** Decoded claims of a token, for assertions. */
    public static Map<String, Object> claims(String token) {
        try {
            return SignedJWT.parse(token).getJWTClaimsSet().getClaims();
        }
        catch (java.text.ParseException ex) {
            throw new IllegalArgumentException("not a JWT", ex);
        }
    }

    /** Seconds until a token's {@code exp}; negative once expired. */
    public static long secondsLeft(String token) {
        Date exp = (Date) claims(token).get("exp");
        return exp.toInstant().getEpochSecond() - Instant.now().getEpochSecond();
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    @Override
    public void close() {
        try {
            server.shutdown();
        }
        catch (RuntimeException ex) {
            System.err.println("[test-idp] could not stop mock-oauth2-server: " + ex);
        }
    }

    /** Takes every request the server recorded so far (waiting 200 ms for stragglers), for tests that count calls. */
    public List<RecordedRequest> drainRecordedRequests() {
        List<RecordedRequest> requests = new ArrayList<>();
        while (true) {
            try {
                RecordedRequest request = server.takeRequest(200, TimeUnit.MILLISECONDS);
                if (request == null) {
                    return requests;
                }
                requests.add(request);
            }
            catch (RuntimeException ex) {
                return requests;
            }
        }
    }
}
