package dev.postern.broker.web;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Scope;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON reader of the HTTP API refuses bodies nested deeper than
 * {@code postern.web.max-json-nesting-depth} and objects that name a key twice. A duplicate key
 * is refused rather than "last one wins" because a proxy or logger in front may read the first
 * one: the two would disagree on what was asked. Stream constraints belong to the factory, which
 * a {@link JsonMapperBuilderCustomizer} cannot replace, so this builder replaces Boot's and still
 * applies every customizer (the {@code spring.jackson.*} properties among them).
 */
@Configuration(proxyBeanMethods = false)
class JsonLimits {

    @Bean
    @Scope("prototype")
    JsonMapper.Builder limitedJsonMapperBuilder(WebProperties properties,
            ObjectProvider<JsonMapperBuilderCustomizer> customizers) {
        JsonFactory factory = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(properties.maxJsonNestingDepth())
                .maxDocumentLength(properties.maxBodySize().toBytes())
                .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
        JsonMapper.Builder builder = JsonMapper.builder(factory);
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder;
    }
}
