package dev.postern.broker;

import java.net.URI;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The address people and providers reach Postern at ({@code postern.public-url}): the base of
 * connect links, of the OAuth redirect URI registered at the provider ({@code /oauth2/callback})
 * and of links in alerts. The default is {@code http://127.0.0.1:8080}.
 *
 * @param publicUrl the base URL, without a trailing slash
 */
@ConfigurationProperties("postern")
public record PublicUrl(@DefaultValue("http://127.0.0.1:8080") URI publicUrl) {

    /** {@code path} under the public URL. */
    public URI resolve(String path) {
        String base = publicUrl.toString().replaceAll("/+$", "");
        return URI.create(base + path);
    }
}
