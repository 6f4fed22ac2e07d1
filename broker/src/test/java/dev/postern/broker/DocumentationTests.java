package dev.postern.broker;

import java.io.IOException;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.AnnotatedBeanDefinition;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.type.filter.AnnotationTypeFilter;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.util.ClassUtils;

import dev.postern.broker.audit.AuditActions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The configuration reference tells the truth: every {@code postern.*} property named in the
 * tables of {@code docs/configuration.md} is bound by a {@code @ConfigurationProperties} record
 * (or read through a {@code ${postern.…}} placeholder in {@code @Value} or {@code @Scheduled}),
 * and every property the code binds is in the tables. docs/api.md lists every problem type of
 * {@link ProblemTypes} and exactly the audit actions of {@link AuditActions}.
 */
class DocumentationTests {

    private static final String BASE_PACKAGE = "dev.postern.broker";

    /** A backticked {@code postern.…} name in the first cell of a Markdown table row. */
    private static final Pattern DOCUMENTED = Pattern.compile("`(postern\\.[a-z0-9.-]+)`");

    /** A {@code ${postern.…}} placeholder, with or without a default. */
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(postern\\.[a-z0-9.-]+)[:}]");

    @Test
    void configurationReferenceListsExactlyTheBoundProperties() {
        Set<String> bound = boundProperties();
        Set<String> documented = documentedProperties();

        Set<String> undocumented = new TreeSet<>(bound);
        undocumented.removeAll(documented);
        Set<String> unknown = new TreeSet<>(documented);
        unknown.removeAll(bound);

        if (!undocumented.isEmpty() || !unknown.isEmpty()) {
            fail("docs/configuration.md and the @ConfigurationProperties records disagree.%n"
                    + "Bound in the code (records under dev.postern.broker, ${postern.…} placeholders) but missing from docs/configuration.md (%d): %s%n"
                    + "In docs/configuration.md but bound by no record (%d): %s",
                    undocumented.size(), undocumented, unknown.size(), unknown);
        }
    }

    @Test
    void boundPropertiesAreFoundByReflection() {
        // Guards the test above against a scan that finds nothing and so agrees with an empty page.
        assertThat(boundProperties()).contains("postern.public-url", "postern.audit.flush-interval", "postern.store.vault.app-role.secret-id",
                "postern.expiry.thresholds", "postern.expiry.graph-discovery.apps", "postern.tokens.default-min-ttl");
    }

    static Set<String> boundProperties() {
        ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false);
        scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
        Set<String> names = new TreeSet<>();
        for (BeanDefinition candidate : scanner.findCandidateComponents(BASE_PACKAGE)) {
            Class<?> type = ClassUtils.resolveClassName(candidate.getBeanClassName(),
                    DocumentationTests.class.getClassLoader());
            ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
            String prefix = annotation.prefix().isEmpty() ? annotation.value() : annotation.prefix();
            if (!type.isRecord()) {
                fail("%s is @ConfigurationProperties but not a record; this test reads records only", type.getName());
            }
            collect(prefix, type, names);
        }
        names.addAll(placeholderProperties());
        return names;
    }

    /** {@code ${postern.…}} placeholders in {@code @Value} and {@code @Scheduled} of the broker's classes. */
    static Set<String> placeholderProperties() {
        ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false) {
            @Override
            protected boolean isCandidateComponent(AnnotatedBeanDefinition definition) {
                return true;
            }
        };
        scanner.addIncludeFilter((reader, factory) -> true);
        Set<String> names = new TreeSet<>();
        for (BeanDefinition candidate : scanner.findCandidateComponents(BASE_PACKAGE)) {
            Class<?> type = ClassUtils.resolveClassName(candidate.getBeanClassName(),
                    DocumentationTests.class.getClassLoader());
            List<AnnotatedElement> elements = new ArrayList<>();
            elements.addAll(List.of(type.getDeclaredFields()));
            for (Method method : type.getDeclaredMethods()) {
                elements.add(method);
                elements.addAll(List.of(method.getParameters()));
            }
            for (Constructor<?> constructor : type.getDeclaredConstructors()) {
                elements.addAll(List.of(constructor.getParameters()));
            }
            for (AnnotatedElement element : elements) {
                Value value = element.getAnnotation(Value.class);
                if (value != null) {
                    placeholders(value.value(), names);
                }
                Scheduled scheduled = element.getAnnotation(Scheduled.class);
                if (scheduled != null) {
                    placeholders(scheduled.fixedDelayString() + scheduled.fixedRateString()
                            + scheduled.initialDelayString() + scheduled.cron(), names);
                }
            }
        }
        return names;
    }

    private static void placeholders(String expression, Set<String> names) {
        Matcher matcher = PLACEHOLDER.matcher(expression);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
    }

    private static void collect(String prefix, Class<?> record, Set<String> names) {
        for (RecordComponent component : record.getRecordComponents()) {
            String name = prefix + "." + kebab(component.getName());
            Class<?> type = component.getType();
            if (type.isRecord() && type.getName().startsWith(BASE_PACKAGE + ".")) {
                collect(name, type, names);
            }
            else {
                // Scalars, enums, lists, sets and maps (keys chosen by the user) are one documented name.
                names.add(name);
            }
        }
    }

    static String kebab(String camelCase) {
        return camelCase.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    static Set<String> documentedProperties() {
        Set<String> names = new TreeSet<>();
        for (String line : configurationPage().split("\\R")) {
            if (!line.startsWith("|")) {
                continue;
            }
            String[] cells = line.split("\\|", -1);
            if (cells.length < 3) {
                continue;
            }
            Matcher matcher = DOCUMENTED.matcher(cells[1]);
            while (matcher.find()) {
                names.add(matcher.group(1));
            }
        }
        return names;
    }

    private static String configurationPage() {
        return docsPage("configuration.md");
    }

    private static String docsPage(String name) {
        for (Path candidate : List.of(Path.of("..", "docs", name), Path.of("docs", name))) {
            if (Files.isRegularFile(candidate)) {
                try {
                    return Files.readString(candidate, StandardCharsets.UTF_8);
                }
                catch (IOException ex) {
                    throw new IllegalStateException("cannot read " + candidate, ex);
                }
            }
        }
        throw new IllegalStateException("docs/" + name + " not found from " + Path.of("").toAbsolutePath());
    }

    @Test
    void apiReferenceListsEveryProblemType() {
        Set<String> catalogue = constants(ProblemTypes.class);
        Set<String> documented = backticked(section(docsPage("api.md"), "## Problem types"), "[a-z]+(?:-[a-z0-9]+)*");
        assertThat(catalogue).as("problem types in ProblemTypes").contains("invalid-request", "refresh-timeout");
        assertThat(documented).as("problem types in docs/api.md").containsAll(catalogue);
        // Any hyphenated slug on the page is a type; the single words there are also field and header names.
        assertThat(documented.stream().filter(slug -> slug.contains("-")).toList())
            .as("hyphenated names in docs/api.md's problem types, all in ProblemTypes")
            .allMatch(catalogue::contains);
    }

    @Test
    void apiReferenceListsExactlyTheAuditActions() {
        Set<String> catalogue = constants(AuditActions.class);
        Set<String> documented = backticked(section(docsPage("api.md"), "### Audit actions"), "[a-z_]+\\.[a-z_]+");
        assertThat(catalogue).as("actions in AuditActions").contains("token.issue", "mail_proxy.login");
        assertThat(documented).as("actions in docs/api.md").isEqualTo(catalogue);
    }

    @Test
    void testingGuideMapsEveryTestClassToItsFeature() {
        ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false) {
            @Override
            protected boolean isCandidateComponent(AnnotatedBeanDefinition definition) {
                return true; // abstract contract tests too
            }
        };
        scanner.addIncludeFilter((reader, factory) -> reader.getClassMetadata().getClassName().endsWith("Tests"));
        Set<String> testClasses = new TreeSet<>();
        for (BeanDefinition candidate : scanner.findCandidateComponents(BASE_PACKAGE)) {
            testClasses.add(ClassUtils.getShortName(candidate.getBeanClassName()));
        }
        Set<String> listed = backticked(section(docsPage("testing.md"), "## Feature → tests"), "[A-Za-z]+Tests");
        assertThat(testClasses).as("test classes found").contains("ArchitectureTests", "TokenFlowIntegrationTests");
        assertThat(listed).as("test classes in docs/testing.md's feature table").isEqualTo(testClasses);
    }

    /** The values of the public string constants of {@code catalogue}. */
    private static Set<String> constants(Class<?> catalogue) {
        Set<String> values = new TreeSet<>();
        for (Field field : catalogue.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
                try {
                    values.add((String) field.get(null));
                }
                catch (IllegalAccessException ex) {
                    throw new IllegalStateException(ex);
                }
            }
        }
        return values;
    }

    /** The text of {@code page} from the heading {@code heading} to the next heading. */
    private static String section(String page, String heading) {
        int start = page.indexOf("\n" + heading + "\n");
        assertThat(start).as("heading %s", heading).isNotNegative();
        Matcher next = Pattern.compile("\n#{1,3} ").matcher(page);
        return next.find(start + heading.length() + 1) ? page.substring(start, next.start()) : page.substring(start);
    }

    /** Every backticked name in {@code text} that matches {@code shape}. */
    private static Set<String> backticked(String text, String shape) {
        Set<String> names = new TreeSet<>();
        Matcher matcher = Pattern.compile("`(" + shape + ")`").matcher(text);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }

    @Test
    void kebabCaseMatchesSpringBootsRelaxedNames() {
        assertThat(Map.of("keyCacheTtl", kebab("keyCacheTtl"), "uri", kebab("uri"), "appRole", kebab("appRole")))
            .containsEntry("keyCacheTtl", "key-cache-ttl")
            .containsEntry("uri", "uri")
            .containsEntry("appRole", "app-role");
    }
}
