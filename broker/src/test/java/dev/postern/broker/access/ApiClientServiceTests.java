package dev.postern.broker.access;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.postern.broker.Role;
import dev.postern.broker.audit.AuditLog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** Recognising API keys: one store read for a burst of requests with the same key. */
class ApiClientServiceTests {

    static final int CONCURRENT_REQUESTS = 20;

    @Test
    void concurrentRequestsWithOneUnknownKeyReadTheStoreOnce() throws Exception {
        String key = ApiKeys.generate();
        Clock clock = Clock.systemUTC();
        ApiClient client = new ApiClient(ApiKeys.clientIdFor(key), "burst", Role.CLIENT, List.of(), List.of(),
                ApiKeys.publicPrefix(key), clock.instant(), null, null);
        ApiClientRepository repository = mock(ApiClientRepository.class);
        CountDownLatch allAsked = new CountDownLatch(CONCURRENT_REQUESTS);
        AtomicInteger reads = new AtomicInteger();
        // The read answers only once every request has been made: without single flight each of them reads.
        when(repository.find(anyString())).thenAnswer(invocation -> {
            reads.incrementAndGet();
            assertThat(allAsked.await(10, TimeUnit.SECONDS)).isTrue();
            return Optional.of(new ApiClientRepository.StoredClient(client, ApiKeys.hash(key), 1));
        });
        ApiClientService service = new ApiClientService(repository, mock(AuditLog.class), clock,
                new AccessProperties(null, Path.of("unused"), Duration.ofSeconds(30), 3, 100), event -> {
        });

        ExecutorService requests = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<Optional<ApiPrincipal>>> principals = new ArrayList<>();
        for (int i = 0; i < CONCURRENT_REQUESTS; i++) {
            principals.add(requests.submit(() -> {
                allAsked.countDown();
                return service.authenticate(key);
            }));
        }
        for (Future<Optional<ApiPrincipal>> principal : principals) {
            assertThat(principal.get(20, TimeUnit.SECONDS)).isPresent();
        }
        requests.shutdown();

        assertThat(reads.get()).isEqualTo(1);
    }
}
