package dev.postern.broker.web;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.PropertyNamingStrategies;

import dev.postern.broker.PublicUrl;

/**
 * The v1 contract as an OpenAPI document at {@code /v3/api-docs}: bearer API keys, and the RFC
 * 9457 problem every call may answer with. Springdoc finds the operations and their JSON shapes
 * itself; this adds what it cannot see, because problems are written by the exception handlers
 * and filters, not returned by the controllers.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiDocument {

    static final String PROBLEM = "Problem";

    static final String API_KEY = "api_key";

    /**
     * The document names {@code postern.public-url} as its server: springdoc would otherwise
     * build it from the request's Host header, which any caller can forge.
     */
    @Bean
    OpenAPI posternOpenApi(PublicUrl publicUrl) {
        return new OpenAPI()
            .servers(List.of(new Server().url(publicUrl.publicUrl().toString().replaceAll("/+$", ""))))
            .info(new Info().title("Postern v1 API")
                .version("v1")
                .description("Credential vault and token broker for mail. JSON with snake_case names; "
                        + "errors are application/problem+json (RFC 9457). See docs/api.md."))
            .components(new Components()
                .addSecuritySchemes(API_KEY, new SecurityScheme().type(SecurityScheme.Type.HTTP)
                    .scheme("bearer")
                    .description("An API key (pst_...) or, for the admin web app, its session cookie")));
    }

    @Bean
    OpenApiCustomizer problemResponsesOfEveryOperation() {
        // Added here, not on the OpenAPI bean: springdoc drops schemas nothing referred to yet.
        return openApi -> {
            openApi.getComponents().addSchemas(PROBLEM, problemSchema());
            openApi.getPaths().forEach((path, item) -> item.readOperations().forEach(operation -> {
            boolean v1 = path.startsWith("/v1/");
            if (v1) {
                operation.addSecurityItem(new SecurityRequirement().addList(API_KEY));
            }
            ApiResponses responses = operation.getResponses();
            Map<String, String> problems = new LinkedHashMap<>();
            problems.put("400", "Invalid request: a field, the JSON or the URL is wrong");
            if (v1) {
                problems.put("401", "No API key, or an unknown, revoked or expired one");
                problems.put("403", "The caller's role or scope does not allow this call");
                problems.put("404", "No such object");
                problems.put("409", "The request contradicts the object's current state");
                problems.put("413", "The request body is too large");
                problems.put("415", "The request body is not application/json");
                problems.put("429", "Too many failed authentications from this address");
                problems.put("503", "The secret store is unavailable; retry after Retry-After");
            }
            problems.put("500", "Internal error; the request id leads to the log entry");
            problems.forEach((status, description) -> {
                if (!responses.containsKey(status)) {
                    responses.addApiResponse(status, problem(description));
                }
            });
        }));
        };
    }

    /**
     * Springdoc reads the Java names of the records (its model reader is Jackson 2 and knows
     * nothing of the Jackson 3 mapper's naming strategy); the wire has snake_case. Renamed here
     * with the very strategy the API's mapper uses, so the two cannot drift apart.
     */
    @Bean
    OpenApiCustomizer snakeCaseSchemaProperties() {
        return openApi -> {
            if (openApi.getComponents() != null && openApi.getComponents().getSchemas() != null) {
                openApi.getComponents().getSchemas().values().forEach(OpenApiDocument::snakeCase);
            }
        };
    }

    private static void snakeCase(Schema<?> schema) {
        if (schema == null) {
            return;
        }
        if (schema.getProperties() != null) {
            Map<String, Schema> renamed = new LinkedHashMap<>();
            schema.getProperties().forEach((name, property) -> {
                snakeCase(property);
                renamed.put(wireName(name), property);
            });
            schema.setProperties(renamed);
        }
        if (schema.getRequired() != null) {
            schema.setRequired(schema.getRequired().stream().map(OpenApiDocument::wireName).toList());
        }
        snakeCase(schema.getItems());
        if (schema.getAdditionalProperties() instanceof Schema<?> values) {
            snakeCase(values);
        }
    }

    private static String wireName(String javaName) {
        return PropertyNamingStrategies.SNAKE_CASE.nameForField(null, null, javaName);
    }

    private static ApiResponse problem(String description) {
        return new ApiResponse().description(description)
            .content(new Content().addMediaType("application/problem+json",
                    new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM))));
    }

    private static Schema<?> problemSchema() {
        return new ObjectSchema().description("An RFC 9457 problem; type is stable, detail is for people")
            .addProperty("type", new StringSchema().format("uri"))
            .addProperty("title", new StringSchema())
            .addProperty("status", new IntegerSchema())
            .addProperty("detail", new StringSchema())
            .addProperty("instance", new StringSchema())
            .addProperty("request_id", new StringSchema())
            .addProperty("errors", new ObjectSchema().description("Field name to what is wrong with it")
                .additionalProperties(new StringSchema()))
            .addRequiredItem("type")
            .addRequiredItem("status");
    }
}
