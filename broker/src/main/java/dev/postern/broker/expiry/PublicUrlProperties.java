package dev.postern.broker.expiry;

import java.net.URI;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where people reach this broker ({@code postern.public-url}), for links in alerts. It sits in
 * {@code expiry} because alerts are its first user; move it to the root package when another
 * feature needs it.
 *
 * @param publicUrl the broker's external address without a trailing slash; the default is
 *        {@code http://127.0.0.1:8080}
 */
@ConfigurationProperties("postern")
public record PublicUrlProperties(@DefaultValue("http://127.0.0.1:8080") URI publicUrl) {

    /** The admin UI page where the credentials of app {@code appId} are rotated. */
    public URI appPage(String appId) {
        String base = publicUrl.toString().replaceAll("/+$", "");
        return URI.create(base + "/admin/apps/" + appId);
    }
}
