package dev.postern.broker.web;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Limits on what a caller may send ({@code postern.web.*}).
 *
 * @param maxBodySize the largest request body accepted; larger ones get {@code 413}. Every v1
 *        body is a few hundred bytes, so the default of 64 KiB leaves room without letting a
 *        caller make the broker buffer or parse megabytes.
 * @param maxJsonNestingDepth the deepest nesting of arrays and objects a JSON body may have;
 *        v1 bodies nest two or three levels
 */
@ConfigurationProperties("postern.web")
public record WebProperties(@DefaultValue("64KB") DataSize maxBodySize, @DefaultValue("32") int maxJsonNestingDepth) {

    public WebProperties {
        if (maxBodySize.toBytes() < 1024) {
            throw new IllegalArgumentException("postern.web.max-body-size must be at least 1KB");
        }
        if (maxJsonNestingDepth < 4) {
            throw new IllegalArgumentException("postern.web.max-json-nesting-depth must be at least 4");
        }
    }
}
