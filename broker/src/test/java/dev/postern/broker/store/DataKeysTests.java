package dev.postern.broker.store;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The data keys of the Vault store's envelope format, with the JDK's crypto and a stand-in for
 * Transit that counts its calls (Transit's own behaviour is in VaultDocumentIntegrityIntegrationTests).
 */
class DataKeysTests {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static final byte[] AAD = "apps/app_1\0client_secret".getBytes(StandardCharsets.UTF_8);

    /** Stands in for Transit: remembers the plaintext of every key it "wrapped". */
    private final Map<String, byte[]> wrappedKeys = new HashMap<>();

    private final AtomicInteger generated = new AtomicInteger();

    private final AtomicInteger unwrapped = new AtomicInteger();

    private Instant now = Instant.parse("2026-12-01T00:00:00Z");

    private final Clock clock = new Clock() {

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    private DataKey generate() {
        byte[] plaintext = new byte[32];
        RANDOM.nextBytes(plaintext);
        String wrapped = "vault:v1:key-" + generated.incrementAndGet();
        wrappedKeys.put(wrapped, plaintext.clone());
        return new DataKey(wrapped, plaintext, clock.instant());
    }

    private DataKey unwrap(String wrapped) {
        unwrapped.incrementAndGet();
        byte[] plaintext = wrappedKeys.get(wrapped);
        return plaintext == null ? null : new DataKey(wrapped, plaintext.clone(), clock.instant());
    }

    private DataKeys keys(long maxEncryptions, Duration maxAge) {
        return new DataKeys(this::generate, this::unwrap, new StoreProperties.DataKeyLimits(maxEncryptions, maxAge),
                Duration.ofMinutes(10), clock);
    }

    @Test
    void forWriteWhenCountReachedThenNextWriteGetsANewKey() {
        DataKeys keys = keys(4, Duration.ofHours(24));

        DataKey first = keys.forWrite(2);
        assertThat(keys.forWrite(2)).isSameAs(first);
        DataKey second = keys.forWrite(1);

        assertThat(second).isNotSameAs(first);
        assertThat(second.wrapped()).isNotEqualTo(first.wrapped());
        assertThat(generated).hasValue(2);
    }

    @Test
    void forWriteWhenKeyOlderThanMaxAgeThenNewKey() {
        DataKeys keys = keys(1L << 24, Duration.ofHours(24));
        DataKey first = keys.forWrite(1);

        now = now.plus(Duration.ofHours(23));
        assertThat(keys.forWrite(1)).isSameAs(first);
        now = now.plus(Duration.ofHours(1));

        assertThat(keys.forWrite(1)).isNotSameAs(first);
    }

    @Test
    void forWriteWhenOneDocumentHasMoreFieldsThanTheLimitThenRefusedInsteadOfLooping() {
        DataKeys keys = keys(2, Duration.ofHours(24));

        assertThatThrownBy(() -> keys.forWrite(3)).isInstanceOf(SecretStoreException.class)
            .hasMessageContaining("max-encryptions");
    }

    @Test
    void forWriteFromManyThreadsThenEveryKeyServesAtMostItsCount() throws Exception {
        DataKeys keys = keys(100, Duration.ofHours(24));
        Map<String, AtomicInteger> uses = new java.util.concurrent.ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 1_000; i++) {
                    uses.computeIfAbsent(keys.forWrite(1).wrapped(), k -> new AtomicInteger()).incrementAndGet();
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }

        assertThat(uses.values()).allSatisfy(count -> assertThat(count.get()).isLessThanOrEqualTo(100));
        assertThat(uses.values().stream().mapToInt(AtomicInteger::get).sum()).isEqualTo(8_000);
        assertThat(generated.get()).isEqualTo(uses.size()).isGreaterThanOrEqualTo(80);
    }

    @Test
    void forReadWhenKeySeenBeforeThenUnwrappedOnlyOnce() {
        DataKey written = generate();
        DataKeys reader = keys(1L << 24, Duration.ofHours(24));

        DataKey first = reader.forRead(written.wrapped());
        DataKey again = reader.forRead(written.wrapped());

        assertThat(again).isSameAs(first);
        assertThat(unwrapped).hasValue(1);
        byte[] sealed = written.seal("placeholder-rt".getBytes(StandardCharsets.UTF_8), AAD);
        assertThat(first.open(sealed, AAD)).asString(StandardCharsets.UTF_8).isEqualTo("placeholder-rt");
    }

    @Test
    void forReadOfThisProcessesCurrentKeyThenNoUnwrap() {
        DataKeys keys = keys(1L << 24, Duration.ofHours(24));
        DataKey current = keys.forWrite(1);

        assertThat(keys.forRead(current.wrapped())).isSameAs(current);
        assertThat(unwrapped).hasValue(0);
    }

    @Test
    void forReadWhenTransitRefusesThenNullAndAskedAgainNextTime() {
        DataKeys keys = keys(1L << 24, Duration.ofHours(24));

        assertThat(keys.forRead("vault:v1:planted")).isNull();
        assertThat(keys.forRead("vault:v1:planted")).isNull();
        assertThat(unwrapped).hasValue(2);
    }

    @Test
    void sealThenOpenOnlyWithTheSameKeyAndAssociatedData() {
        DataKey key = generate();
        DataKey other = generate();
        byte[] sealed = key.seal("placeholder-secret".getBytes(StandardCharsets.UTF_8), AAD);

        assertThat(key.open(sealed, AAD)).asString(StandardCharsets.UTF_8).isEqualTo("placeholder-secret");
        assertThat(key.open(sealed, "apps/app_2\0client_secret".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(other.open(sealed, AAD)).isNull();
        sealed[sealed.length - 1] ^= 1;
        assertThat(key.open(sealed, AAD)).isNull();
        assertThat(key.open(new byte[5], AAD)).isNull();
        assertThat(key.seal(new byte[3], AAD)).as("a fresh nonce each time").isNotEqualTo(key.seal(new byte[3], AAD));
    }

    @Test
    void macDiffersPerKeyAndKeyPrintsNothingSecret() {
        byte[] plaintext = new byte[32];
        RANDOM.nextBytes(plaintext);
        String hex = java.util.HexFormat.of().formatHex(plaintext);
        String base64 = java.util.Base64.getEncoder().encodeToString(plaintext);
        DataKey key = new DataKey("vault:v1:abc", plaintext, now);

        assertThat(plaintext).as("the raw key is wiped once the subkeys are derived").containsOnly(0);
        assertThat(key.mac(AAD)).hasSize(32).isEqualTo(key.mac(AAD)).isNotEqualTo(generate().mac(AAD));
        assertThat(key.toString()).doesNotContain(hex).doesNotContain(base64).doesNotContain("vault:v1:abc");
    }

    @Test
    void limitsWhenAboveTheRandomNonceBoundThenRefused() {
        assertThatThrownBy(() -> new StoreProperties.DataKeyLimits((1L << 32) + 1, Duration.ofHours(1)))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("2^32");
        assertThatThrownBy(() -> new StoreProperties.DataKeyLimits(1, Duration.ZERO))
            .isInstanceOf(IllegalArgumentException.class);
    }
}
