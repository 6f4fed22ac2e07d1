package dev.postern.broker.accounts;

import java.security.SecureRandom;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Access tokens held packed: every token comes back exactly; JWT-shaped ones are held as their bytes. */
class PackedTokenTests {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static String segment(int bytes) {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    @Test
    void jwtsOfEverySegmentLengthArePackedAndComeBackExactly() {
        for (int length = 1; length < 40; length++) {
            String jwt = segment(length) + "." + segment(length + 1) + "." + segment(length + 2);
            PackedToken packed = PackedToken.of(jwt);
            assertThat(packed.packed()).as(jwt).isTrue();
            assertThat(packed.value()).isEqualTo(jwt);
        }
        String microsoftSized = segment(90) + "." + segment(1100) + "." + segment(256);
        assertThat(PackedToken.of(microsoftSized).value()).isEqualTo(microsoftSized);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "ya29.a0AfB_byC-xyz", // shaped like a Google token: its second part cannot be base64, kept as text
        "EwBwA+l3BAAUo4xeBIbHjhBxWOFekj4Xy2fhaGQAAR/ABC==", // standard base64 with padding: kept as text
        "abcdB", // 5 characters: a length base64 cannot have
        "abcF", // encodes 3 bytes exactly
        "abF", // its last character carries unused bits that are set: would not come back, kept as text
        "a..b", // an empty part
        "trailing.", // ends with a dot
        ".leading",
        "x",
        "token with spaces",
        "ünïcødé-token",
        "0123456789-_"})
    void anyTokenComesBackExactly(String token) {
        assertThat(PackedToken.of(token).value()).isEqualTo(token);
    }

    @Test
    void whatIsNotCanonicalBase64UrlIsKeptAsText() {
        assertThat(PackedToken.of("abF").packed()).isFalse();
        assertThat(PackedToken.of("a..b").packed()).isFalse();
        assertThat(PackedToken.of("EwBwA+l3BAAUo4xe").packed()).isFalse();
        assertThat(PackedToken.of("abcF").packed()).isTrue();
    }

    @Test
    void itsTextNeverShowsInToString() {
        String jwt = segment(20) + "." + segment(20) + "." + segment(20);
        assertThat(PackedToken.of(jwt).toString()).doesNotContain(jwt.substring(0, 10));
        assertThat(new AccountRepository.StoredAccessToken("secret-token-text", java.time.Instant.EPOCH, "mail").toString())
            .doesNotContain("secret-token-text");
    }
}
