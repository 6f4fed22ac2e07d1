package dev.postern.broker.expiry;

import java.io.StringReader;
import java.net.URI;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IClientCredential;
import com.microsoft.aad.msal4j.IHttpClient;
import com.microsoft.aad.msal4j.MsalServiceException;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppRepository.StoredApp;
import dev.postern.broker.apps.Credential;

/**
 * Gets Graph tokens with msal4j's client credentials grant, using the app's active credential
 * (client secret or certificate). The app needs the Graph application permission
 * {@code Application.Read.All} (or to own itself) for the read that follows.
 */
public class MsalGraphTokenSource implements GraphTokenSource {

    private final URI authorityHost;

    private final URI graphBaseUrl;

    private final java.time.Duration timeout;

    private final IHttpClient httpClient;

    public MsalGraphTokenSource(URI authorityHost, URI graphBaseUrl, java.time.Duration timeout, IHttpClient httpClient) {
        this.authorityHost = authorityHost;
        this.httpClient = httpClient;
        this.graphBaseUrl = graphBaseUrl;
        this.timeout = timeout;
    }

    @Override
    public String accessToken(StoredApp stored) {
        AppRegistration app = stored.app();
        Credential active = app.activeCredential()
            .orElseThrow(() -> new GraphApplicationReader.GraphException("the app has no active credential"));
        String secret = stored.secrets().get(active.id());
        if (secret == null) {
            throw new GraphApplicationReader.GraphException("the active credential has no stored secret");
        }
        try {
            String scope = graphBaseUrl.toString().replaceAll("/+$", "") + "/.default";
            return ConfidentialClientApplication.builder(app.clientId(), credential(active, secret))
                .authority(authorityHost.toString().replaceAll("/+$", "") + "/" + app.tenant() + "/")
                .instanceDiscovery(false)
                .httpClient(httpClient)
                .build()
                .acquireToken(ClientCredentialParameters.builder(Set.of(scope)).build())
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .accessToken();
        }
        catch (ExecutionException ex) {
            // Only the provider's error code: its message may quote the request, never our secret, but be strict.
            String code = ex.getCause() instanceof MsalServiceException service ? service.errorCode()
                    : ex.getCause().getClass().getSimpleName();
            throw new GraphApplicationReader.GraphException("Microsoft refused the token request: " + code);
        }
        catch (TimeoutException ex) {
            throw new GraphApplicationReader.GraphException("Microsoft did not answer within " + timeout);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new GraphApplicationReader.GraphException("interrupted");
        }
        catch (java.net.MalformedURLException | RuntimeException ex) {
            if (ex instanceof GraphApplicationReader.GraphException graph) {
                throw graph;
            }
            throw new GraphApplicationReader.GraphException("the app's tenant or credential is unusable: "
                    + ex.getClass().getSimpleName());
        }
    }

    private static IClientCredential credential(Credential active, String secret) {
        if (active.type() == Credential.CredentialType.CLIENT_SECRET) {
            return ClientCredentialFactory.createFromSecret(secret);
        }
        return ClientCredentialFactory.createFromCertificate(privateKey(secret),
                certificate(active.certificate().pem()));
    }

    private static PrivateKey privateKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object parsed = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (parsed instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (parsed instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            throw new GraphApplicationReader.GraphException("the certificate's private key is not PEM");
        }
        catch (java.io.IOException ex) {
            throw new GraphApplicationReader.GraphException("the certificate's private key is not PEM");
        }
    }

    private static X509Certificate certificate(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            return new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) parser.readObject());
        }
        catch (java.io.IOException | java.security.cert.CertificateException | ClassCastException ex) {
            throw new GraphApplicationReader.GraphException("the certificate is not PEM");
        }
    }
}
