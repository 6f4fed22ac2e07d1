package dev.postern.broker.web;

/**
 * Names and reasons a person types (an app's or client's name, a promotion's reason): shown in the
 * admin UI, written to logs and audit entries, put into alert e-mail subjects and certificate names.
 * A control character (CR, LF, NUL, ESC, …) belongs in none of them and could forge an e-mail header
 * or a log line, so such text is refused where it comes in, with the field named.
 */
public final class PlainText {

    /**
     * For {@code @Pattern}: any text without a control character (Unicode category Cc: U+0000-U+001F
     * and U+007F-U+009F). Spelled as a range, not {@code \P{Cc}}, because the OpenAPI document
     * publishes it and clients (ECMAScript, Python) do not all read Unicode property escapes.
     */
    public static final String NO_CONTROL_CHARACTERS = "[^\\u0000-\\u001F\\u007F-\\u009F]*";

    /** The message of that {@code @Pattern}. */
    public static final String NO_CONTROL_CHARACTERS_MESSAGE = "must not contain control characters (line breaks, tabs, …)";

    private PlainText() {
    }
}
