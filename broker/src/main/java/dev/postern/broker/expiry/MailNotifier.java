package dev.postern.broker.expiry;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.context.event.EventListener;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;

import dev.postern.broker.store.StoreIds;

/** Sends each expiry event as a plain-text e-mail to {@code postern.expiry.mail.to} over SMTP. */
public class MailNotifier {

    static final String NAME = "mail";

    private final @Nullable JavaMailSender sender;

    private final ExpiryProperties.Mail mail;

    private final NotificationDelivery delivery;

    /** A notifier that mails through {@code sender}, or does nothing while it is {@code null} (no recipients). */
    public MailNotifier(@Nullable JavaMailSender sender, ExpiryProperties.Mail mail, NotificationDelivery delivery) {
        this.sender = sender;
        this.mail = mail;
        this.delivery = delivery;
    }

    @EventListener
    public void on(ExpiryEvent event) {
        JavaMailSender sender = this.sender;
        if (sender == null || mail.to().isEmpty()) {
            return;
        }
        SimpleMailMessage message = new SimpleMailMessage();
        message.setFrom(mail.from());
        message.setTo(List.copyOf(mail.to()).toArray(String[]::new));
        message.setSubject(mail.subjectPrefix() + " " + AlertMessages.subject(event));
        message.setText(AlertMessages.text(event));
        String messageId = "mail_" + StoreIds.newId("x").substring(2);
        delivery.submit(NAME, messageId, event, attempt -> {
            try {
                sender.send(message);
            }
            catch (org.springframework.mail.MailException ex) {
                // The exception type only: SMTP errors can echo addresses and server banners.
                throw new IllegalStateException("SMTP: " + ex.getClass().getSimpleName());
            }
        });
    }
}
