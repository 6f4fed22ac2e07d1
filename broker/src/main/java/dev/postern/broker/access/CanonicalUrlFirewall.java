package dev.postern.broker.access;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.security.web.firewall.FirewalledRequest;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.security.web.firewall.StrictHttpFirewall;

/**
 * Spring Security's {@link StrictHttpFirewall} with its defaults (no {@code ;}, no encoded
 * {@code /}, {@code .} or {@code %}, no {@code //}, {@code \} or non-printable characters), plus one
 * rule: a path may not percent-encode a character that needs no encoding ({@code /%761/apps} for
 * {@code /v1/apps}). Such a URL names the same route in another spelling; no client of Postern sends
 * one, so a route is reachable only by the one spelling its access rules were written for.
 */
class CanonicalUrlFirewall extends StrictHttpFirewall {

    @Override
    public FirewalledRequest getFirewalledRequest(HttpServletRequest request) {
        FirewalledRequest checked = super.getFirewalledRequest(request);
        if (encodesAnUnreservedCharacter(request.getRequestURI())) {
            throw new RequestRejectedException(
                    "The request was rejected because the URL percent-encodes a character that needs no encoding");
        }
        return checked;
    }

    /** Whether {@code path} has a {@code %XX} that stands for a letter, digit, {@code -}, {@code .}, {@code _} or {@code ~}. */
    static boolean encodesAnUnreservedCharacter(String path) {
        for (int i = path.indexOf('%'); i >= 0 && i + 2 < path.length(); i = path.indexOf('%', i + 1)) {
            int high = Character.digit(path.charAt(i + 1), 16);
            int low = Character.digit(path.charAt(i + 2), 16);
            if (high >= 0 && low >= 0 && isUnreserved((char) (high * 16 + low))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isUnreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                || c == '_' || c == '~';
    }
}
