package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.security.GeneralSecurityException;

import javax.net.ssl.SSLContext;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.StringUtils;

import dev.postern.broker.access.ApiClientService;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.apps.AppService;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.tokens.TokenService;

/** The mail proxy's beans, made only when {@code postern.mail-proxy.enabled} is true. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnBooleanProperty("postern.mail-proxy.enabled")
class MailProxyConfiguration {

    @Bean
    MailProxyServer mailProxyServer(MailProxyProperties properties, SslBundles bundles, ApiClientService clients,
            AccountService accounts, AppService apps, AppPasswordService appPasswords, TokenService tokens,
            AuditLog audit, MeterRegistry meters) throws GeneralSecurityException, IOException {
        if (!StringUtils.hasText(properties.sslBundle())) {
            throw new IllegalStateException("postern.mail-proxy.ssl-bundle must name the SSL bundle with the "
                    + "listeners' certificate when postern.mail-proxy.enabled is true");
        }
        SSLContext upstreamTls = Upstreams.trusting(StringUtils.hasText(properties.upstreamSslBundle())
                ? bundles.getBundle(properties.upstreamSslBundle()) : null);
        MailLogins logins = new MailLogins(clients, accounts, appPasswords, tokens, audit, meters, properties.minTokenTtl(),
                new FailedLogins(properties.maxFailedLogins(), properties.failedLoginWindow(),
                        properties.failedLoginCooldown(), properties.maxFailedLoginAddresses(), Ticker.systemTicker()));
        Upstreams upstreams = new Upstreams(upstreamTls, apps, properties.upstreamTimeout(), properties.upstreamSpareMaxAge());
        MailProxyServer server = new MailProxyServer(properties,
                bundles.getBundle(properties.sslBundle()).createSslContext(), logins, upstreams, meters);
        // A bundle with reload-on-update gets a new certificate without a restart.
        bundles.addBundleUpdateHandler(properties.sslBundle(), bundle -> server.serverTls(bundle.createSslContext()));
        return server;
    }

    @Bean
    SessionRevocations mailSessionRevocations(MailProxyServer server) {
        return new SessionRevocations(server.sessions());
    }
}
