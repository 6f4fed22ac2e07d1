package dev.postern.broker.expiry;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One object as a scan judged it.
 *
 * @param object the object
 * @param state its state at {@code at}
 * @param daysLeft whole days until it expires, rounded down (negative once expired)
 * @param crossed the thresholds it is inside now, longest first, then {@code expired} and
 *        {@code reauth_required} when they apply
 * @param at when it was judged
 */
public record ObjectExpiry(ExpiringObject object, ExpiryState state, long daysLeft, List<String> crossed,
        Instant at) {

    /** The alert name of the expiry itself, after every threshold. */
    public static final String EXPIRED = "expired";

    /** The alert name of a mailbox that needs its owner. */
    public static final String REAUTH_REQUIRED = "reauth_required";

    public ObjectExpiry {
        crossed = List.copyOf(crossed);
    }

    /** Judges {@code object} at {@code now} against {@code thresholds} (longest first). */
    public static ObjectExpiry judge(ExpiringObject object, List<Duration> thresholds, Instant now) {
        Duration left = Duration.between(now, object.expiresAt());
        boolean expired = !now.isBefore(object.expiresAt());
        List<String> crossed = new ArrayList<>();
        for (Duration threshold : thresholds) {
            if (left.compareTo(threshold) <= 0) {
                crossed.add(thresholdName(threshold));
            }
        }
        if (expired) {
            crossed.add(EXPIRED);
        }
        boolean reauth = object.hint() == ExpiringObject.Hint.REAUTH_REQUIRED;
        if (reauth) {
            crossed.add(REAUTH_REQUIRED);
        }
        ExpiryState state = reauth ? ExpiryState.REAUTH_REQUIRED
                : expired ? ExpiryState.EXPIRED : left.compareTo(thresholds.getFirst()) <= 0 ? ExpiryState.WARNING : ExpiryState.OK;
        return new ObjectExpiry(object, state, Math.floorDiv(left.toSeconds(), 86_400L), crossed, now);
    }

    /** {@code 30d} for 30 days, {@code 12h} for 12 hours, else the ISO duration. */
    public static String thresholdName(Duration threshold) {
        if (threshold.toSeconds() % 86_400 == 0) {
            return threshold.toDays() + "d";
        }
        if (threshold.toSeconds() % 3_600 == 0) {
            return threshold.toHours() + "h";
        }
        return threshold.toString();
    }

    /** Whether it is in use and no longer works: what makes the health check fail. */
    public boolean isOutage() {
        ExpiringObject.Hint hint = object.hint();
        return (state == ExpiryState.EXPIRED && hint == ExpiringObject.Hint.IN_USE)
                || state == ExpiryState.REAUTH_REQUIRED;
    }

    /** Whether alerts apply to it at all: a superseded credential is done with. */
    public boolean isWatched() {
        return object.hint() != ExpiringObject.Hint.SUPERSEDED;
    }
}
