package dev.postern.broker.store;

import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.HttpClientSettings;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.util.StringUtils;
import org.springframework.vault.authentication.AppRoleAuthentication;
import org.springframework.vault.authentication.AppRoleAuthenticationOptions;
import org.springframework.vault.authentication.ClientAuthentication;
import org.springframework.vault.authentication.KubernetesAuthentication;
import org.springframework.vault.authentication.KubernetesAuthenticationOptions;
import org.springframework.vault.authentication.KubernetesServiceAccountTokenFile;
import org.springframework.vault.authentication.LifecycleAwareSessionManager;
import org.springframework.vault.authentication.SessionManager;
import org.springframework.vault.authentication.TokenAuthentication;
import org.springframework.vault.client.VaultClients;
import org.springframework.vault.client.VaultEndpoint;
import org.springframework.vault.core.VaultTemplate;
import org.springframework.web.client.RestTemplate;

/** Chooses the store backend from {@code postern.store.type}. */
@Configuration(proxyBeanMethods = false)
class StoreConfiguration {

    /** The chosen backend, counted (see {@link CountingSecretStore}). */
    @Bean
    CountingSecretStore countingSecretStore(ObjectProvider<EmbeddedSecretStore> embedded,
            ObjectProvider<VaultSecretStore> vault, MeterRegistry registry) {
        SecretStore backend = vault.getIfAvailable();
        return new CountingSecretStore(backend != null ? backend : embedded.getObject(), registry);
    }

    /**
     * The store the features get: the counted backend with the sorted keys of the listed folders in
     * memory, so pages do no LIST (see {@link KeyDirectory}). Its writes pass through it to keep
     * those keys current.
     */
    @Bean
    @Primary
    KeyDirectory keyDirectory(CountingSecretStore counted) {
        return new KeyDirectory(counted);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnProperty(name = "postern.store.type", havingValue = "embedded", matchIfMissing = true)
    EmbeddedSecretStore embeddedSecretStore(StoreProperties properties) {
        StoreProperties.Embedded embedded = properties.embedded();
        return new EmbeddedSecretStore(embedded.file(),
                StringUtils.hasText(embedded.masterKey()) ? MasterKeys.fromBase64(embedded.masterKey())
                        : MasterKeys.fromKeyFile(embedded.keyFile()));
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(name = "postern.store.type", havingValue = "vault")
    static class VaultStoreConfiguration {

        /**
         * The HTTP client of every Vault call but KV reads (KV writes, lists, Transit, the token's
         * renewal): the JDK's {@code HttpURLConnection} with the body buffered, on the calling
         * (virtual) thread (see {@link VaultRequestFactory}: a KV write took 0.7 ms through it against
         * 2.1-2.8 ms through Spring's JDK {@code HttpClient} factory, which this replaced). It gives
         * up after the read timeout: a Vault that accepts connections but never answers (stopped,
         * overloaded) once hung every request for ever (VaultOutageIntegrationTests).
         */
        @Bean
        ClientHttpRequestFactory vaultRequestFactory(StoreProperties properties) {
            StoreProperties.Vault vault = properties.vault();
            keepEnoughConnections();
            SslBundle tls = tls(vault);
            return new VaultRequestFactory(tls == null ? null : tls.createSslContext().getSocketFactory(),
                    vault.connectTimeout(), vault.readTimeout());
        }

        /**
         * The HTTP client of KV reads: the JDK's blocking {@code HttpURLConnection}, kept alive, on
         * the reading (virtual) thread. A read through it cost the broker 0.17 ms of CPU against
         * 0.23 ms through the JDK {@code HttpClient} (hand-offs to its selector thread, three
         * exceptions per call when Spring cancels the read timeout), and the expiry scan is 110,000
         * reads (docs/performance.md).
         */
        static ClientHttpRequestFactory blockingReads(StoreProperties.Vault vault) {
            keepEnoughConnections();
            HttpClientSettings settings = HttpClientSettings.defaults()
                .withTimeouts(vault.connectTimeout(), vault.readTimeout());
            SslBundle tls = tls(vault);
            if (tls != null) {
                settings = settings.withSslBundle(tls);
            }
            return ClientHttpRequestFactoryBuilder.simple().build(settings);
        }

        /**
         * HttpURLConnection keeps 5 idle connections per server unless told otherwise: a scan's reads
         * at once would open and close connections by the thousand (TIME_WAIT). The JDK reads this
         * when its keep-alive cache first fills up.
         */
        private static void keepEnoughConnections() {
            if (System.getProperty("http.maxConnections") == null) {
                System.setProperty("http.maxConnections", String.valueOf(2 * ParallelReads.MAX_IN_FLIGHT));
            }
        }

        /** The CA that Vault's certificate is checked against, or null for the JVM's. */
        private static @Nullable SslBundle tls(StoreProperties.Vault vault) {
            return vault.caCertificate() == null ? null : SslBundle.of(new PemSslStoreBundle(null,
                    PemSslStoreDetails.forCertificates(vault.caCertificate().toUri().toString())));
        }

        /** Renews the Vault token; being the context's only TaskScheduler, it also runs @Scheduled work. */
        @Bean(destroyMethod = "shutdown")
        ThreadPoolTaskScheduler vaultSessionScheduler() {
            ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
            scheduler.setPoolSize(4);
            scheduler.setThreadNamePrefix("postern-scheduler-");
            scheduler.setDaemon(true);
            scheduler.initialize();
            return scheduler;
        }

        @Bean
        SessionManager vaultSessionManager(StoreProperties properties, ClientHttpRequestFactory vaultRequestFactory,
                ThreadPoolTaskScheduler vaultSessionScheduler) {
            StoreProperties.Vault vault = properties.vault();
            VaultEndpoint endpoint = VaultEndpoint.from(vault.uri());
            RestTemplate rest = VaultClients.createRestTemplate(endpoint, vaultRequestFactory);
            ClientAuthentication authentication = switch (vault.authentication()) {
                case TOKEN -> {
                    if (!StringUtils.hasText(vault.token())) {
                        throw new StoreUnavailableException(
                                "postern.store.vault.token (VAULT_TOKEN) is empty; set it or use AppRole authentication");
                    }
                    yield new TokenAuthentication(vault.token());
                }
                case KUBERNETES -> {
                    StoreProperties.Kubernetes kubernetes = vault.kubernetes();
                    if (!StringUtils.hasText(kubernetes.role())) {
                        throw new StoreUnavailableException(
                                "Kubernetes authentication needs postern.store.vault.kubernetes.role");
                    }
                    yield new KubernetesAuthentication(KubernetesAuthenticationOptions.builder()
                        .path(kubernetes.path())
                        .role(kubernetes.role())
                        .jwtSupplier(new KubernetesServiceAccountTokenFile(kubernetes.tokenFile().toString()))
                        .build(), rest);
                }
                case APPROLE -> {
                    StoreProperties.AppRole appRole = vault.appRole();
                    if (!StringUtils.hasText(appRole.roleId()) || !StringUtils.hasText(appRole.secretId())) {
                        throw new StoreUnavailableException(
                                "AppRole authentication needs postern.store.vault.app-role.role-id and secret-id");
                    }
                    yield new AppRoleAuthentication(AppRoleAuthenticationOptions.builder()
                        .path(appRole.path())
                        .roleId(AppRoleAuthenticationOptions.RoleId.provided(appRole.roleId()))
                        .secretId(AppRoleAuthenticationOptions.SecretId.provided(appRole.secretId()))
                        .build(), rest);
                }
            };
            return new LifecycleAwareSessionManager(authentication, vaultSessionScheduler, rest);
        }

        @Bean
        VaultTemplate vaultTemplate(StoreProperties properties, ClientHttpRequestFactory vaultRequestFactory,
                SessionManager vaultSessionManager) {
            return new VaultTemplate(VaultEndpoint.from(properties.vault().uri()), vaultRequestFactory,
                    vaultSessionManager);
        }

        @Bean
        VaultSecretStore vaultSecretStore(StoreProperties properties, VaultTemplate vaultTemplate,
                SessionManager vaultSessionManager) {
            StoreProperties.Vault vault = properties.vault();
            VaultTemplate reads = new VaultTemplate(VaultEndpoint.from(vault.uri()), blockingReads(vault),
                    vaultSessionManager);
            VaultSecretStore store = new VaultSecretStore(vaultTemplate, reads, vault.kvMount(), vault.prefix(),
                    vault.transitMount(), vault.transitKey(), vault.dataKey());
            // Fail the start with a clear message rather than the first request with a 503.
            store.prepare();
            return store;
        }
    }
}
