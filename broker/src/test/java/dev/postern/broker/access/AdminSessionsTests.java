package dev.postern.broker.access;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Idle and absolute timeouts, decided by the clock. */
class AdminSessionsTests {

    /** A clock the test moves. */
    static final class MovableClock extends Clock {

        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    private final MovableClock clock = new MovableClock();

    private final AdminSessions sessions = new AdminSessions(clock,
            new AdminSessionProperties(Duration.ofMinutes(30), Duration.ofHours(8)));

    @Test
    void aSessionUsedWithinTheIdleTimeoutLivesUntilTheAbsoluteTimeout() {
        AdminSessions.Created created = sessions.create("cli_a");
        for (int i = 0; i < 16; i++) {
            clock.now = clock.now.plus(Duration.ofMinutes(29));
            assertThat(sessions.find(created.id())).as("after %d uses", i).isPresent();
        }
        clock.now = Instant.parse("2026-01-01T08:00:00Z");
        assertThat(sessions.find(created.id())).isEmpty();
    }

    @Test
    void anIdleSessionEndsAndStaysEnded() {
        AdminSessions.Created created = sessions.create("cli_a");
        clock.now = clock.now.plus(Duration.ofMinutes(30));
        assertThat(sessions.find(created.id())).isEmpty();
        clock.now = clock.now.minus(Duration.ofMinutes(1));
        assertThat(sessions.find(created.id())).isEmpty();
    }

    @Test
    void idsAreRandomAndTheCsrfTokenIsComparedExactly() {
        AdminSessions.Created a = sessions.create("cli_a");
        AdminSessions.Created b = sessions.create("cli_a");
        assertThat(a.id()).hasSize(43).isNotEqualTo(b.id());
        assertThat(a.session().csrfTokenMatches(a.session().csrfToken())).isTrue();
        assertThat(a.session().csrfTokenMatches(b.session().csrfToken())).isFalse();
        assertThat(a.session().csrfTokenMatches(null)).isFalse();
        assertThat(a.toString()).doesNotContain(a.session().csrfToken());
        assertThat(sessions.find("unknown")).isEmpty();
        sessions.end(a.id());
        assertThat(sessions.find(a.id())).isEmpty();
        assertThat(sessions.find(b.id())).isPresent();
    }
}
