package dev.postern.broker.store;

import java.lang.reflect.Method;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The last line before Vault: decoded hostile ids (what a path variable holds after Tomcat and
 * Spring decoded it) never become a store path, and the store takes no location but a SecretPath.
 */
class SecretPathTests {

    static final List<String> HOSTILE = List.of("", " ", ".", "..", "../x", "..\\x", "a/b", "/a", "a/", "a%2Fb", "%2e%2e",
            "a\u0000b", "\u0000", "a\r\nb", "A", "app_X", "app.x", "app x", "\u202eapp", "\uff0f", "\u00e9", "app_\ud83d\udca3",
            "-app", "_app", "a".repeat(65), "app_" + "a".repeat(5000), "app;x", "app?x", "app#x", "~", "*");

    @Test
    void hostileIdsAreRefusedBeforeAnyBackend() {
        for (String id : HOSTILE) {
            assertThat(SecretPath.isValidId(id)).as("'%s'", id).isFalse();
            assertThatThrownBy(() -> SecretPath.of(StoreCollection.APPS, id)).as("'%s'", id)
                .isInstanceOf(InvalidSecretPathException.class)
                .hasMessage("not a valid id for a store path");
            assertThatThrownBy(() -> SecretPath.of(StoreCollection.APPS).child(id)).as("'%s'", id)
                .isInstanceOf(InvalidSecretPathException.class);
        }
    }

    @Test
    void generatedIdsAreValid() {
        for (int i = 0; i < 200; i++) {
            assertThat(SecretPath.isValidId(StoreIds.newId("app"))).isTrue();
            assertThat(SecretPath.isValidId(StoreIds.newUnguessableId("lnk"))).isTrue();
        }
        assertThat(SecretPath.of(StoreCollection.APPS, "app_abc", "x-1").relative()).isEqualTo("apps/app_abc/x-1");
    }

    @Test
    void theStoreTakesNoLocationButASecretPath() {
        for (Method method : SecretStore.class.getMethods()) {
            for (Class<?> parameter : method.getParameterTypes()) {
                assertThat(parameter).as(method.getName()).isNotEqualTo(String.class);
            }
        }
    }
}
