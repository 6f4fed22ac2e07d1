package dev.postern.broker.expiry;

import java.time.Clock;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.mail.javamail.JavaMailSender;

import dev.postern.broker.PublicUrl;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.outbound.OutboundHttp;
import dev.postern.broker.outbound.OutboundMsalHttpClient;
import dev.postern.broker.store.LeaseDocument;
import dev.postern.broker.providers.microsoft.GraphApplicationReader;
import dev.postern.broker.providers.microsoft.GraphTokenSource;
import dev.postern.broker.providers.microsoft.MicrosoftTokenProvider;
import dev.postern.broker.store.SecretStore;

/** Wires the expiry scan, its sources, its notifiers, metrics and health. */
@Configuration(proxyBeanMethods = false)
class ExpiryConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GraphTokenSource graphTokenSource(ExpiryProperties properties, MicrosoftTokenProvider microsoft) {
        return microsoft.graphTokenSource(properties.graphBaseUrl());
    }

    @Bean
    AppCredentialSource appCredentialSource(AppRepository apps, ExpiryProperties properties, GraphTokenSource tokens,
            Clock clock, OutboundHttp outbound) {
        GraphApplicationReader graph = properties.graphDiscovery().enabled()
                ? new GraphApplicationReader(properties.graphBaseUrl(), tokens, properties.graphDiscovery().timeout(),
                        outbound)
                : null;
        return new AppCredentialSource(apps, properties.graphDiscovery(), graph, clock);
    }

    @Bean
    AlertStateRepository alertStateRepository(SecretStore store) {
        return new AlertStateRepository(store);
    }

    @Bean
    FailedNotifications failedNotifications(SecretStore store) {
        return new FailedNotifications(store);
    }

    @Bean
    ExpiryMetrics expiryMetrics(MeterRegistry registry) {
        return new ExpiryMetrics(registry);
    }

    /** Decides which replica alerts in a scan interval. */
    @Bean
    LeaseDocument expiryScanLease(SecretStore store) {
        return LeaseDocument.named(store, "expiry-scan");
    }

    @Bean
    ExpiryScanner expiryScanner(List<ExpiringObjectSource> sources, AlertStateRepository alerts, LeaseDocument lease,
            AppRepository apps, ExpiryProperties properties, PublicUrl publicUrl,
            ApplicationEventPublisher events, ExpiryMetrics metrics, Clock clock) {
        return new ExpiryScanner(sources, alerts, lease, apps, properties, publicUrl, events, metrics, clock);
    }

    @Bean
    ExpiryHealthIndicator expiryHealthIndicator(ExpiryScanner scanner) {
        return new ExpiryHealthIndicator(scanner);
    }

    @Bean
    NotificationDelivery expiryNotificationDelivery(ExpiryProperties properties, FailedNotifications failures,
            ExpiryMetrics metrics, Clock clock) {
        return new NotificationDelivery(properties.webhook().maxAttempts(), properties.webhook().initialBackoff(),
                failures, metrics, clock);
    }

    @Bean
    LogNotifier expiryLogNotifier() {
        return new LogNotifier();
    }

    @Bean
    WebhookNotifier expiryWebhookNotifier(ExpiryProperties properties, NotificationDelivery delivery, Clock clock,
            OutboundHttp outbound) {
        return new WebhookNotifier(properties.webhook(), delivery, clock, outbound);
    }

    @Bean
    MailNotifier expiryMailNotifier(ExpiryProperties properties, ObjectProvider<JavaMailSender> sender,
            NotificationDelivery delivery) {
        JavaMailSender mailSender = properties.mail().to().isEmpty() ? null : sender.getIfAvailable();
        if (!properties.mail().to().isEmpty() && mailSender == null) {
            throw new IllegalStateException("postern.expiry.mail.to is set but no SMTP server: set spring.mail.host");
        }
        return new MailNotifier(mailSender, properties.mail(), delivery);
    }
}
