package dev.postern.broker.store;

import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * How records become a document's {@code data} and back, the same way for every feature:
 * snake_case names, ISO-8601 instants, absent instead of null.
 */
public final class DocumentMapping {

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private static final JsonMapper JSON = JsonMapper.builder()
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
        .changeDefaultPropertyInclusion(inclusion -> inclusion.withValueInclusion(JsonInclude.Include.NON_NULL))
        .build();

    private DocumentMapping() {
    }

    /** {@code value} as document data. */
    public static Map<String, Object> toData(Object value) {
        return JSON.convertValue(value, MAP);
    }

    /** Document data as a {@code type}. */
    public static <T> T fromData(Map<String, Object> data, Class<T> type) {
        return JSON.convertValue(data, type);
    }
}
