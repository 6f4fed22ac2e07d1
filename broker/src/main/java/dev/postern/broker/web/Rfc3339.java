package dev.postern.broker.web;

import java.time.DateTimeException;
import java.time.Instant;

import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.deser.std.StdScalarDeserializer;
import tools.jackson.databind.module.SimpleModule;

/**
 * Times the API reads, in query parameters and JSON bodies alike: RFC 3339 strings, whose year has
 * four digits. {@link Instant#parse} also reads years of up to nine digits and a sign
 * ({@code +300000000-01-01T00:00:00Z}), which no client means and which overflow later arithmetic
 * (epoch milliseconds): such a time is invalid input, never stored and never a 500.
 */
@Configuration(proxyBeanMethods = false)
public class Rfc3339 {

    private static final Instant EARLIEST = Instant.parse("0000-01-01T00:00:00Z");

    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /**
     * The instant {@code text} names.
     *
     * @throws DateTimeException when it is not an RFC 3339 time with a four-digit year
     */
    public static Instant parse(String text) {
        Instant instant = Instant.parse(text);
        if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
            throw new DateTimeException("The year of an RFC 3339 time has four digits");
        }
        return instant;
    }

    /** JSON bodies read every {@link Instant} as {@link #parse} does; anything else names the field as invalid. */
    @Bean
    JsonMapperBuilderCustomizer rfc3339Instants() {
        return builder -> builder.addModule(new SimpleModule("rfc3339-instants").addDeserializer(Instant.class,
                new InstantDeserializer()));
    }

    private static final class InstantDeserializer extends StdScalarDeserializer<Instant> {

        InstantDeserializer() {
            super(Instant.class);
        }

        @Override
        public Instant deserialize(JsonParser parser, DeserializationContext context) {
            if (!parser.hasToken(JsonToken.VALUE_STRING)) {
                return (Instant) context.handleUnexpectedToken(Instant.class, parser);
            }
            String text = parser.getString().strip();
            try {
                return parse(text);
            }
            catch (DateTimeException ex) {
                return (Instant) context.handleWeirdStringValue(Instant.class, text, "not an RFC 3339 time");
            }
        }
    }
}
