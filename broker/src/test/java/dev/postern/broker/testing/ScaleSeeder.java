package dev.postern.broker.testing;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import dev.postern.broker.PosternApplication;
import dev.postern.broker.Role;
import dev.postern.broker.access.ApiClientService;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.apps.AppService;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;

/**
 * Seeds a store for {@code scripts/bench-scale} through the broker's own services, so the documents
 * are the ones the broker writes: {@code M} generic apps (created, a client secret added and
 * promoted), one API client allowed on all of them, and {@code N} mailboxes connected through
 * {@link AccountService#connect} (index entry, account, audit event), spread round-robin over the
 * apps. The broker runs in this process (the script gives its web server a free port) with its background
 * passes (keep-alive, index check) postponed; the store comes from the usual settings
 * ({@code POSTERN_STORE=vault}, {@code VAULT_ADDR}, {@code VAULT_TOKEN}).
 *
 * <p>Arguments: {@code mailboxes apps token-endpoint output-folder [--spring.setting=value ...]}. The refresh tokens are
 * {@code scale-refresh-<i>}, which the bench's mock provider accepts; the stored access tokens are
 * {@code -Dscale.access-token-chars} long (default 1500, a typical Microsoft token) and live 12 hours, so the measured token requests are served from the store without a provider call.
 * Writes {@code client.key} (the client's key) and {@code accounts.tsv} (mailbox, account id) to the
 * output folder and prints progress and one {@code SEED} line per phase.
 */
public final class ScaleSeeder {

    private static final String ACTOR = "bench-seed";

    private static final int THREADS = 32;

    private ScaleSeeder() {
    }

    public static void main(String[] args) throws Exception {
        int mailboxes = Integer.parseInt(args[0]);
        int appCount = Integer.parseInt(args[1]);
        URI tokenEndpoint = URI.create(args[2]);
        Path out = Path.of(args[3]);
        SpringApplication application = new SpringApplication(PosternApplication.class);
        application.setDefaultProperties(Map.of("postern.tokens.keep-alive-initial-delay", "24h",
                "postern.accounts.index-check-initial-delay", "24h", "postern.expiry.scan-interval", "24h"));
        int status;
        try (ConfigurableApplicationContext context = application.run(java.util.Arrays.copyOfRange(args, 4, args.length))) {
            seed(context, mailboxes, appCount, tokenEndpoint, out);
            // The seeder is no replica: the expiry-scan lease its start-up scan took would keep the
            // measured broker from alerting (and from knowing the alert states) for a day.
            context.getBean(SecretStore.class).delete(SecretPath.of(StoreCollection.LEASES, "expiry-scan"));
            status = 0;
        }
        System.exit(status);
    }

    private static void seed(ConfigurableApplicationContext context, int mailboxes, int appCount, URI tokenEndpoint, Path out)
            throws Exception {
        AppService apps = context.getBean(AppService.class);
        AccountService accounts = context.getBean(AccountService.class);
        Instant now = Instant.now();
        List<String> appIds = Collections.synchronizedList(new ArrayList<>(Collections.nCopies(appCount, (String) null)));
        run("apps", appCount, i -> {
            String id = apps.create(ACTOR, new AppService.AppFields("Scale app %05d".formatted(i), ProviderKind.GENERIC, null,
                    "scale-client-" + i, List.of("openid", "email", "mail", "offline_access"),
                    tokenEndpoint.resolve("/authorize"), tokenEndpoint, null, null, null, null, null)).id();
            // Secrets expire over the next 400 days, so that the expiry timeline and its alerts have content.
            var credential = apps.addClientSecret(ACTOR, id, "scale-secret-" + i, now.plus(Duration.ofDays(2 + i % 400)), null)
                .credential();
            apps.promote(ACTOR, id, credential.id(), true, "seeded by scripts/bench-scale");
            appIds.set(i, id);
        });
        var client = context.getBean(ApiClientService.class)
            .create(ACTOR, "bench-scale", Role.CLIENT, List.copyOf(appIds), List.of(), null);
        Files.writeString(out.resolve("client.key"), client.key(), StandardCharsets.UTF_8);
        String[] accountIds = new String[mailboxes];
        Instant expires = now.plus(Duration.ofHours(12));
        int tokenChars = Integer.getInteger("scale.access-token-chars", 1500);
        run("mailboxes", mailboxes, i -> {
            String mailbox = mailbox(i);
            TokenGrant grant = new TokenGrant(accessToken("scale-access-" + i + "-", tokenChars), expires, "openid email mail offline_access",
                    new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "scale-refresh-" + i), mailbox,
                    new ProviderIdentity(tokenEndpoint.resolve("/").toString(), null, "subject-" + i), Map.of());
            accountIds[i] = accounts.connect(ACTOR, appIds.get(i % appCount), ProviderKind.GENERIC, mailbox, grant).id();
        });
        try (PrintWriter tsv = new PrintWriter(Files.newBufferedWriter(out.resolve("accounts.tsv"), StandardCharsets.UTF_8))) {
            for (int i = 0; i < mailboxes; i++) {
                tsv.println(mailbox(i) + "\t" + accountIds[i]);
            }
        }
    }

    /** {@code prefix} padded to {@code chars}: real access tokens are JWTs of 1-2.5 KB, and memory per cached token depends on it. */
    private static String accessToken(String prefix, int chars) {
        return prefix + "x".repeat(Math.max(0, chars - prefix.length()));
    }

    static String mailbox(int i) {
        return "scale-%06d@example.test".formatted(i);
    }

    /** Runs {@code step} for 0..count-1 on {@value #THREADS} virtual threads, printing progress every 5 s. */
    private static void run(String what, int count, IntConsumer step) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        long started = System.nanoTime();
        List<Future<?>> workers = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < THREADS; t++) {
                workers.add(threads.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < count;) {
                        step.accept(i);
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            while (!workers.stream().allMatch(Future::isDone)) {
                Thread.sleep(100);
                long elapsed = System.nanoTime() - started;
                if (elapsed / 5_000_000_000L != (elapsed - 100_000_000L) / 5_000_000_000L) {
                    double seconds = elapsed / 1e9;
                    System.out.printf("seeding %s: %,d of %,d, %.0f/s, %.0f s%n", what, done.get(), count, done.get() / seconds,
                            seconds);
                }
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("SEED %s %d in %.1f s: %.0f/s (%d threads)%n", what, count, seconds, count / seconds, THREADS);
    }
}
