package dev.postern.broker.expiry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;

/** Writes each expiry event to the {@code postern.expiry} logger: always on, the notifier of last resort. */
public class LogNotifier {

    private static final Logger log = LoggerFactory.getLogger("postern.expiry");

    @EventListener
    public void on(ExpiryEvent event) {
        String text = AlertMessages.text(event);
        if (event instanceof CredentialExpiredEvent) {
            log.warn("{}", text);
        }
        else {
            log.info("{}", text);
        }
    }
}
