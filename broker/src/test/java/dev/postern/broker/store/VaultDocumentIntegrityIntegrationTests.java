package dev.postern.broker.store;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.testing.TestVault;
import dev.postern.broker.testing.VaultExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Store integrity against a real OpenBao: someone who can write KV but has no Transit rights can
 * delete or corrupt documents, never change what Postern reads from them (edited, moved, replayed
 * from an older version, given another document's data key, planted with a key of their own);
 * ciphertexts are bound to their document and field; data keys are replaced by count and a read of
 * a known key needs no Transit call; documents in the previous format ({@code "2"}, Transit
 * ciphertexts and MAC) are still read and rewritten on the next write; documents in the legacy
 * format are read and migrated, and a legacy-format document planted after the migration is refused.
 */
@ExtendWith(VaultExtension.class)
class VaultDocumentIntegrityIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final TestVault vault;

    /** Inside {@code secret/data/postern/*}, so a KV-only policy can name it. */
    private final String prefix = "postern/integrity-" + UUID.randomUUID() + "/";

    VaultDocumentIntegrityIntegrationTests(TestVault vault) {
        this.vault = vault;
    }

    private VaultSecretStore rootStore(String transitKey) {
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(vault.address(), vault.rootToken()), "secret",
                prefix, "transit", transitKey);
        store.prepare();
        return store;
    }

    @Test
    void kvWriteWithoutTransitRightsThatMakesAClientAdminThenRefusedOnRead() {
        VaultSecretStore store = rootStore("postern");
        SecretPath client = SecretPath.of(StoreCollection.CLIENTS, "cli_intruder");
        store.write(client, SecretDocument.of(Map.of("name", "reporting", "role", "client", "key_hash", "abc")),
                SecretStore.NEW);
        String kvOnly = kvOnlyToken();
        assertThat(vault.api("POST", "transit/hmac/postern-v2", "{\"input\":\"aGk=\"}", kvOnly).statusCode())
            .as("the intruder has no Transit rights").isEqualTo(403);
        assertThat(vault.api("POST", "transit/datakey/plaintext/postern-v2", "{\"context\":\"aGk=\"}", kvOnly)
            .statusCode()).isEqualTo(403);

        // The intruder edits the metadata JSON as stored and writes it back as a new version.
        Map<String, Object> stored = rawData(client, kvOnly);
        stored.put("data", String.valueOf(stored.get("data")).replace("\"role\":\"client\"", "\"role\":\"admin\""));
        assertThat(String.valueOf(stored.get("data"))).contains("\"role\":\"admin\"");
        rawWrite(client, stored, kvOnly);

        assertThatThrownBy(() -> store.read(client)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("clients/cli_intruder")
            .hasMessageContaining("MAC")
            .hasMessageNotContaining("admin");
        // A replica that never saw the document (no cache) refuses it too.
        assertThatThrownBy(() -> rootStore("postern").read(client)).isInstanceOf(DocumentIntegrityException.class);

        // Stripping the MAC and format to pass as a legacy document does not help either.
        stored.remove("mac");
        stored.remove("format");
        rawWrite(client, stored, kvOnly);
        assertThatThrownBy(() -> store.read(client)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("legacy format");

        // Nor does moving another, valid document onto this path (here: the same content re-signed nowhere).
        SecretPath admin = SecretPath.of(StoreCollection.CLIENTS, "cli_admin");
        store.write(admin, SecretDocument.of(Map.of("name", "ops", "role", "admin", "key_hash", "abc")), SecretStore.NEW);
        Map<String, Object> moved = rawData(admin, kvOnly);
        rawWrite(client, moved, kvOnly);
        assertThatThrownBy(() -> store.read(client)).isInstanceOf(DocumentIntegrityException.class);
        assertThat(store.read(admin).orElseThrow().document().data()).containsEntry("role", "admin");
    }

    @Test
    void olderVersionReplayedOrAnotherDataKeySwappedInOrAPlantedKeyThenRefused() {
        VaultSecretStore store = rootStore("postern");
        String kvOnly = kvOnlyToken();
        SecretPath client = SecretPath.of(StoreCollection.CLIENTS, "cli_demoted");
        long first = store.write(client, SecretDocument.of(Map.of("name", "ops", "role", "admin")), SecretStore.NEW);
        Map<String, Object> whenAdmin = rawData(client, kvOnly);
        store.write(client, SecretDocument.of(Map.of("name", "ops", "role", "client")), first);

        // Replay: the admin version copied back as a new version. Its MAC names version 1.
        rawWrite(client, whenAdmin, kvOnly);
        assertThatThrownBy(() -> store.read(client)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("MAC");
        assertThatThrownBy(() -> rootStore("postern").read(client)).isInstanceOf(DocumentIntegrityException.class);

        // Another replica's data key (valid, unwraps) swapped into a document: the MAC is under the other key.
        SecretPath account = SecretPath.of(StoreCollection.ACCOUNTS, "acc_swapped");
        store.write(account, new SecretDocument(Map.of("mailbox", "a@example.com"),
                Map.of("refresh_token", "placeholder-rt", "access_token", "placeholder-at")), SecretStore.NEW);
        VaultSecretStore otherReplica = rootStore("postern");
        SecretPath elsewhere = SecretPath.of(StoreCollection.ACCOUNTS, "acc_other");
        otherReplica.write(elsewhere, new SecretDocument(Map.of(), Map.of("refresh_token", "x")), SecretStore.NEW);
        String otherKey = String.valueOf(rawData(elsewhere, kvOnly).get("key"));
        Map<String, Object> swapped = rawData(account, kvOnly);
        assertThat(swapped.get("key")).as("each replica has its own data key").isNotEqualTo(otherKey);
        swapped.put("key", otherKey);
        rawWrite(account, swapped, kvOnly);
        assertThatThrownBy(() -> store.read(account)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("MAC");

        // Planted: a document made with a key of the intruder's own, complete with a correct MAC and
        // ciphertexts under it. Transit does not unwrap the made-up wrapped key, so it is refused.
        byte[] own = new byte[32];
        new java.security.SecureRandom().nextBytes(own);
        String madeUp = "vault:v1:" + Base64.getEncoder().encodeToString(own);
        DataKey intruderKey = new DataKey(madeUp, own.clone(), java.time.Instant.now());
        SecretPath planted = SecretPath.of(StoreCollection.CLIENTS, "cli_planted_v3");
        String data = "{\"name\":\"intruder\",\"role\":\"admin\",\"key_hash\":\"abc\"}";
        Map<String, Object> forged = new LinkedHashMap<>();
        forged.put("format", "3");
        forged.put("data", data);
        forged.put("key", madeUp);
        forged.put("secrets", Map.of());
        forged.put("mac", Base64.getEncoder().encodeToString(intruderKey.mac(store.macInput(planted, 1, data, madeUp,
                Map.of()))));
        rawWrite(planted, forged, kvOnly);
        assertThatThrownBy(() -> store.read(planted)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("does not unwrap")
            .hasMessageNotContaining(madeUp);

        // A real wrapped key of another Postern store (another prefix) does not unwrap here either.
        VaultSecretStore otherStore = new VaultSecretStore(VaultStores.template(vault.address(), vault.rootToken()),
                "secret", prefix + "other/", "transit", "postern");
        otherStore.prepare();
        otherStore.write(client, SecretDocument.of(Map.of("name", "x")), SecretStore.NEW);
        HttpResponse<String> foreign = vault.api("GET", "secret/data/" + prefix + "other/" + client.relative(), null);
        forged.put("key", JSON.readTree(foreign.body()).path("data").path("data").path("key").asString());
        rawWrite(planted, forged, kvOnly);
        assertThatThrownBy(() -> store.read(planted)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("does not unwrap");
    }

    @Test
    void dataKeyReplacedAfterItsCountAndADocumentOfAKnownKeyReadWithoutTransit() {
        VaultSecretStore writer = new VaultSecretStore(VaultStores.template(vault.address(), vault.rootToken()),
                "secret", prefix, "transit", "postern", new StoreProperties.DataKeyLimits(3, java.time.Duration.ofHours(24)));
        writer.prepare();
        List<SecretPath> accounts = List.of(SecretPath.of(StoreCollection.ACCOUNTS, "acc_k1"),
                SecretPath.of(StoreCollection.ACCOUNTS, "acc_k2"), SecretPath.of(StoreCollection.ACCOUNTS, "acc_k3"),
                SecretPath.of(StoreCollection.ACCOUNTS, "acc_k4"));
        for (SecretPath account : accounts) {
            writer.write(account, new SecretDocument(Map.of("mailbox", account.ids().getLast() + "@example.com"),
                    Map.of("refresh_token", "placeholder-" + account.ids().getLast())), SecretStore.NEW);
        }
        List<String> keys = accounts.stream().map(a -> String.valueOf(rawData(a, vault.rootToken()).get("key"))).toList();
        assertThat(keys.get(1)).isEqualTo(keys.get(0));
        assertThat(keys.get(2)).isEqualTo(keys.get(0));
        assertThat(keys.get(3)).as("the fourth encryption takes a new key").isNotEqualTo(keys.get(0))
            .startsWith("vault:v1:");

        // A replica whose token may read KV and unwrap keys, until its Transit right is taken away.
        String policy = "path \"secret/data/" + prefix + "*\" { capabilities = [\"read\"] }\n";
        String withTransit = policy + "path \"transit/decrypt/postern-v2\" { capabilities = [\"update\"] }\n";
        String policyName = "postern-reader-" + UUID.randomUUID();
        expectSuccess(vault.api("PUT", "sys/policies/acl/" + policyName,
                JSON.writeValueAsString(Map.of("policy", withTransit))), "write the policy");
        HttpResponse<String> created = vault.api("POST", "auth/token/create", JSON.writeValueAsString(
                Map.of("policies", List.of(policyName), "no_default_policy", true, "ttl", "10m")));
        expectSuccess(created, "create a token");
        VaultSecretStore reader = new VaultSecretStore(
                VaultStores.template(vault.address(), JSON.readTree(created.body()).path("auth").path("client_token")
                    .asString()), "secret", prefix, "transit", "postern");
        assertThat(reader.read(accounts.get(0)).orElseThrow().document().secret("refresh_token"))
            .isEqualTo("placeholder-acc_k1");

        expectSuccess(vault.api("PUT", "sys/policies/acl/" + policyName,
                JSON.writeValueAsString(Map.of("policy", policy))), "take Transit away");
        assertThat(reader.read(accounts.get(2)).orElseThrow().document().secret("refresh_token"))
            .as("same data key: the KV read alone").isEqualTo("placeholder-acc_k3");
        assertThatThrownBy(() -> reader.read(accounts.get(3))).as("a new data key needs Transit")
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("unwrap a data key");
    }

    @Test
    void documentInFormat2IsReadAfterTheUpgradeRefusedWhenEditedAndRewrittenInFormat3() {
        VaultSecretStore store = rootStore("postern");
        SecretPath app = SecretPath.of(StoreCollection.APPS, "app_v2");
        SecretPath client = SecretPath.of(StoreCollection.CLIENTS, "cli_v2");
        v2Write(store, app, Map.of("name", "Contoso mail"), Map.of("client_secret", "placeholder-v2-secret"), 0);
        v2Write(store, client, Map.of("name", "ops", "role", "client"), Map.of(), 0);

        StoredDocument read = rootStore("postern").read(app).orElseThrow();
        assertThat(read.version()).isEqualTo(1);
        assertThat(read.document().data()).containsEntry("name", "Contoso mail");
        assertThat(read.document().secret("client_secret")).isEqualTo("placeholder-v2-secret");

        Map<String, Object> edited = rawData(client, vault.rootToken());
        edited.put("data", String.valueOf(edited.get("data")).replace("\"role\":\"client\"", "\"role\":\"admin\""));
        rawWrite(client, edited, vault.rootToken());
        assertThatThrownBy(() -> rootStore("postern").read(client)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("MAC");

        long rewritten = store.write(app, read.document(), read.version());
        Map<String, Object> raw = rawData(app, vault.rootToken());
        assertThat(raw).containsEntry("format", "3");
        assertThat(String.valueOf(raw.get("secrets"))).doesNotContain("vault:v");
        StoredDocument again = rootStore("postern").read(app).orElseThrow();
        assertThat(again.version()).isEqualTo(rewritten);
        assertThat(again.document().secret("client_secret")).isEqualTo("placeholder-v2-secret");
    }

    @Test
    void ciphertextCopiedIntoAnotherDocumentOrFieldThenRefused() {
        VaultSecretStore store = rootStore("postern");
        SecretPath a = SecretPath.of(StoreCollection.ACCOUNTS, "acc_a");
        SecretPath b = SecretPath.of(StoreCollection.ACCOUNTS, "acc_b");
        store.write(a, new SecretDocument(Map.of("mailbox", "a@example.com"), Map.of("refresh_token", "placeholder-rt-a")),
                SecretStore.NEW);
        store.write(b, new SecretDocument(Map.of("mailbox", "b@example.com"),
                Map.of("refresh_token", "placeholder-rt-b", "other", "placeholder-other-b")), SecretStore.NEW);
        String stolen = secrets(rawData(a, vault.rootToken())).get("refresh_token");

        // Plain copy into the other document: the MAC (which covers every ciphertext) refuses it.
        Map<String, Object> intoB = rawData(b, vault.rootToken());
        Map<String, String> sealed = secrets(intoB);
        sealed.put("refresh_token", stolen);
        intoB.put("secrets", sealed);
        rawWrite(b, intoB, vault.rootToken());
        assertThatThrownBy(() -> store.read(b)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("MAC");

        // Even with a valid MAC (made here with the data key unwrapped by the root token), the
        // ciphertext does not decrypt outside its document and field.
        resignAndWrite(store, b, intoB);
        assertThatThrownBy(() -> rootStore("postern").read(b)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("does not decrypt");

        // The same within one document: another field's ciphertext.
        SecretPath c = SecretPath.of(StoreCollection.ACCOUNTS, "acc_c");
        store.write(c, new SecretDocument(Map.of(), Map.of("refresh_token", "placeholder-rt-c", "other", "x")),
                SecretStore.NEW);
        Map<String, Object> swapped = rawData(c, vault.rootToken());
        Map<String, String> fields = secrets(swapped);
        fields.put("other", fields.get("refresh_token"));
        swapped.put("secrets", fields);
        resignAndWrite(store, c, swapped);
        assertThatThrownBy(() -> rootStore("postern").read(c)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("does not decrypt");

        assertThat(store.read(a).orElseThrow().document().secret("refresh_token")).isEqualTo("placeholder-rt-a");
    }

    @Test
    void readAllOfDocumentsAnotherReplicaWroteUnwrapsItsDataKeyOnceAndRefusesWhatReadRefuses() {
        VaultSecretStore writer = rootStore("postern");
        List<SecretPath> paths = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            SecretPath path = SecretPath.of(StoreCollection.ACCOUNTS, "acc_batch" + i);
            writer.write(path, new SecretDocument(Map.of("mailbox", "m" + i + "@example.com"),
                    Map.of("refresh_token", "placeholder-rt-" + i, "access_token", "placeholder-at-" + i)), SecretStore.NEW);
            paths.add(path);
        }
        SecretPath missing = SecretPath.of(StoreCollection.ACCOUNTS, "acc_never_written");
        paths.add(missing);
        // A replica that never saw these documents: no MAC or plaintext cached.
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        VaultSecretStore fresh = new VaultSecretStore(new org.springframework.vault.core.VaultTemplate(
                org.springframework.vault.client.VaultEndpoint.from(java.net.URI.create(vault.address())),
                new org.springframework.vault.authentication.TokenAuthentication(vault.rootToken())) {
            @Override
            public <T> T doWithSession(org.springframework.vault.core.RestOperationsCallback<T> callback) {
                calls.incrementAndGet();
                return super.doWithSession(callback);
            }
        }, "secret", prefix, "transit", "postern");
        fresh.prepare();
        calls.set(0);

        List<java.util.Optional<StoredDocument>> read = fresh.readAll(paths);

        // 21 KV reads in parallel and at most one unwrap of the writer's data key; MACs and secrets are
        // checked and opened locally (format 2 documents cost one Transit verify and one decrypt per batch).
        assertThat(calls.get()).isBetween(paths.size(), paths.size() + 1);
        assertThat(read).hasSize(21);
        assertThat(read.get(20)).isEmpty();
        for (int i = 0; i < 20; i++) {
            SecretDocument document = read.get(i).orElseThrow().document();
            assertThat(document.data()).containsEntry("mailbox", "m" + i + "@example.com");
            assertThat(document.secret("refresh_token")).isEqualTo("placeholder-rt-" + i);
            assertThat(document.secret("access_token")).isEqualTo("placeholder-at-" + i);
            assertThat(read.get(i)).isEqualTo(writer.read(paths.get(i)));
        }

        // A document changed without Transit rights in the middle of a batch: refused as read() refuses it.
        SecretPath changed = paths.get(7);
        Map<String, Object> stored = rawData(changed, kvOnlyToken());
        stored.put("data", String.valueOf(stored.get("data")).replace("m7@", "intruder@"));
        rawWrite(changed, stored, kvOnlyToken());
        assertThatThrownBy(() -> rootStore("postern").readAll(paths)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("accounts/acc_batch7")
            .hasMessageContaining("MAC");
        // A ciphertext moved into another document with a valid MAC does not decrypt there, in a batch either.
        Map<String, Object> moved = rawData(paths.get(3), vault.rootToken());
        Map<String, String> sealed = secrets(moved);
        sealed.put("refresh_token", secrets(rawData(paths.get(2), vault.rootToken())).get("refresh_token"));
        moved.put("secrets", sealed);
        resignAndWrite(writer, paths.get(3), moved);
        assertThatThrownBy(() -> rootStore("postern").readAll(paths.subList(0, 5))).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("accounts/acc_batch3")
            .hasMessageContaining("does not decrypt");
        // The untouched documents still read, in a batch of their own.
        assertThat(rootStore("postern").readAll(List.of(paths.get(0), paths.get(1), paths.get(2))))
            .allSatisfy(document -> assertThat(document).isPresent());
    }

    @Test
    void documentsInTodaysFormatAreReadAndMigratedAndALegacyDocumentPlantedLaterIsRefused() throws Exception {
        // Today's main: a non-derived key named by transit-key, secrets encrypted without context,
        // metadata as a JSON string, no format and no MAC, written with cas.
        String base = "legacy-" + UUID.randomUUID();
        expectSuccess(vault.api("POST", "transit/keys/" + base, "{\"type\":\"aes256-gcm96\"}"), "create the old key");
        SecretPath app = SecretPath.of(StoreCollection.APPS, "app_old");
        SecretPath client = SecretPath.of(StoreCollection.CLIENTS, "cli_old");
        SecretPath event = SecretPath.of(StoreCollection.AUDIT, "day_1", "chunk_1");
        legacyWrite(app, Map.of("name", "Contoso mail"), Map.of("client_secret", legacyEncrypt(base, "placeholder-secret")));
        legacyWrite(client, Map.of("name", "ops", "role", "admin"), Map.of());
        legacyWrite(event, Map.of("events", List.of(Map.of("id", "evt_1"))), Map.of());
        // The -v2 key's creation time (seconds) is the cut-off: let a second pass.
        Thread.sleep(1100);

        VaultSecretStore store = rootStore(base);

        for (SecretPath migrated : List.of(app, client, event)) {
            JsonNode raw = JSON.readTree(vault.api("GET", "secret/data/" + prefix + migrated.relative(), null).body())
                .path("data");
            assertThat(raw.path("data").path("format").asString()).as(migrated.toString()).isEqualTo("3");
            assertThat(raw.path("data").path("key").asString()).startsWith("vault:v1:");
            assertThat(raw.path("metadata").path("version").asLong()).isEqualTo(2);
        }
        StoredDocument appRead = store.read(app).orElseThrow();
        assertThat(appRead.document().data()).containsEntry("name", "Contoso mail");
        assertThat(appRead.document().secret("client_secret")).isEqualTo("placeholder-secret");
        assertThat(rootStore(base).read(app).orElseThrow().document().secret("client_secret"))
            .as("decrypted with the derived key by a store without caches").isEqualTo("placeholder-secret");
        assertThat(store.read(client).orElseThrow().document().data()).containsEntry("role", "admin");
        assertThat(store.read(event).orElseThrow().document().data()).containsKey("events");

        // After the migration, a document in the legacy format is refused: a new one and an old one rewritten.
        SecretPath planted = SecretPath.of(StoreCollection.CLIENTS, "cli_planted");
        legacyWrite(planted, Map.of("name", "intruder", "role", "admin"), Map.of());
        assertThatThrownBy(() -> store.read(planted)).isInstanceOf(DocumentIntegrityException.class)
            .hasMessageContaining("legacy format");
        Map<String, Object> downgraded = new LinkedHashMap<>();
        downgraded.put("data", "{\"name\":\"ops\",\"role\":\"admin\",\"key_hash\":\"intruder\"}");
        downgraded.put("secrets", Map.of());
        rawWrite(client, downgraded, vault.rootToken());
        assertThatThrownBy(() -> store.read(client)).isInstanceOf(DocumentIntegrityException.class);

        // A restart, even with the migration marker deleted, migrates nothing planted and still starts.
        vault.api("DELETE", "secret/metadata/" + prefix + VaultSecretStore.FORMAT_MARKER.relative(), null);
        VaultSecretStore restarted = rootStore(base);
        assertThatThrownBy(() -> restarted.read(planted)).isInstanceOf(DocumentIntegrityException.class);
        assertThat(JSON.readTree(vault.api("GET", "secret/data/" + prefix + planted.relative(), null).body())
            .path("data").path("data").path("format").isMissingNode()).isTrue();
        assertThat(restarted.read(app).orElseThrow().document().secret("client_secret")).isEqualTo("placeholder-secret");
    }

    @Test
    void dataKeyUnwrapCostPerReadMeasured() {
        VaultSecretStore store = rootStore("postern");
        SecretPath path = SecretPath.of(StoreCollection.APPS, "app_timing");
        store.write(path, SecretDocument.of(Map.of("name", "timing", "token_endpoint", "https://login.example/token")),
                SecretStore.NEW);
        int reads = 300;
        // One HTTP client for every store, so only the Transit call that unwraps the data key differs between the loops.
        var template = VaultStores.template(vault.address(), vault.rootToken());
        for (int i = 0; i < 50; i++) {
            new VaultSecretStore(template, "secret", prefix, "transit", "postern").read(path).orElseThrow();
            store.read(path).orElseThrow();
        }
        long cached = 0;
        long verified = 0;
        for (int i = 0; i < reads; i++) {
            long start = System.nanoTime();
            assertThat(store.read(path).orElseThrow().document().data()).containsEntry("name", "timing");
            cached += System.nanoTime() - start;
            // A store with empty caches unwraps the document's data key at Transit on its first read.
            VaultSecretStore fresh = new VaultSecretStore(template, "secret", prefix, "transit", "postern");
            start = System.nanoTime();
            assertThat(fresh.read(path).orElseThrow().document().data()).containsEntry("name", "timing");
            verified += System.nanoTime() - start;
        }
        System.out.printf("[store-integrity] %d reads each: KV read with the data key known %.3f ms/read; "
                + "KV read + Transit unwrap of the data key %.3f ms/read; the unwrap adds %.3f ms to a read of a new key%n", reads,
                cached / 1e6 / reads, verified / 1e6 / reads, (verified - cached) / 1e6 / reads);
    }

    private String kvOnlyToken() {
        String policy = """
                path "secret/data/postern/*" { capabilities = ["create", "read", "update"] }
                path "secret/metadata/postern/*" { capabilities = ["list", "read", "delete"] }
                """;
        expectSuccess(vault.api("PUT", "sys/policies/acl/postern-kv-only",
                JSON.writeValueAsString(Map.of("policy", policy))), "write the policy");
        HttpResponse<String> created = vault.api("POST", "auth/token/create",
                JSON.writeValueAsString(Map.of("policies", List.of("postern-kv-only"), "no_default_policy", true,
                        "ttl", "10m")));
        expectSuccess(created, "create a token");
        return JSON.readTree(created.body()).path("auth").path("client_token").asString();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> rawData(SecretPath path, String token) {
        HttpResponse<String> raw = vault.api("GET", "secret/data/" + prefix + path.relative(), null, token);
        expectSuccess(raw, "read " + path);
        Map<String, Object> body = JSON.readValue(raw.body(), Map.class);
        return new LinkedHashMap<>((Map<String, Object>) ((Map<String, Object>) body.get("data")).get("data"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> secrets(Map<String, Object> stored) {
        return new LinkedHashMap<>((Map<String, String>) stored.getOrDefault("secrets", Map.of()));
    }

    private void rawWrite(SecretPath path, Map<String, Object> stored, String token) {
        expectSuccess(vault.api("POST", "secret/data/" + prefix + path.relative(),
                JSON.writeValueAsString(Map.of("data", stored)), token), "write " + path);
    }

    /**
     * Writes {@code stored} as the next version with a valid MAC under its own data key, which
     * Transit unwraps here for the root token: what only someone with Postern's Transit rights can do.
     */
    private void resignAndWrite(VaultSecretStore store, SecretPath path, Map<String, Object> stored) {
        String wrapped = String.valueOf(stored.get("key"));
        HttpResponse<String> unwrapped = vault.api("POST", "transit/decrypt/postern-v2",
                JSON.writeValueAsString(Map.of("ciphertext", wrapped, "context", dataKeyContext())));
        expectSuccess(unwrapped, "unwrap");
        DataKey key = new DataKey(wrapped,
                Base64.getDecoder().decode(JSON.readTree(unwrapped.body()).path("data").path("plaintext").asString()),
                java.time.Instant.now());
        stored.put("mac", Base64.getEncoder().encodeToString(
                key.mac(store.macInput(path, nextVersion(path), String.valueOf(stored.get("data")), wrapped,
                        secrets(stored)))));
        rawWrite(path, stored, vault.rootToken());
    }

    private long nextVersion(SecretPath path) {
        return JSON.readTree(vault.api("GET", "secret/data/" + prefix + path.relative(), null).body())
            .path("data").path("metadata").path("version").asLong() + 1;
    }

    /** The context under which Transit wraps this store's data keys (VaultSecretStore's rule, repeated). */
    private String dataKeyContext() {
        return Base64.getEncoder()
            .encodeToString(("postern-data-key-v3\0secret/" + prefix).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes a document in format "2", as the store wrote it before data keys: each secret
     * encrypted at Transit under its document+field context, and a Transit HMAC.
     */
    private void v2Write(VaultSecretStore store, SecretPath path, Map<String, Object> data, Map<String, String> secrets,
            long cas) {
        Map<String, String> sealed = new LinkedHashMap<>();
        secrets.forEach((name, value) -> {
            HttpResponse<String> encrypted = vault.api("POST", "transit/encrypt/postern-v2",
                    JSON.writeValueAsString(Map.of("plaintext",
                            Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)), "context",
                            Base64.getEncoder().encodeToString(("secret/" + prefix + path.relative() + "\0" + name)
                                .getBytes(StandardCharsets.UTF_8)))));
            expectSuccess(encrypted, "encrypt");
            sealed.put(name, JSON.readTree(encrypted.body()).path("data").path("ciphertext").asString());
        });
        String json = JSON.writeValueAsString(data);
        byte[] input = store.macInputV2(path, cas + 1, json, sealed);
        HttpResponse<String> mac = vault.api("POST", "transit/hmac/postern-v2",
                JSON.writeValueAsString(Map.of("input", Base64.getEncoder().encodeToString(input))));
        expectSuccess(mac, "MAC");
        expectSuccess(vault.api("POST", "secret/data/" + prefix + path.relative(), JSON.writeValueAsString(
                Map.of("options", Map.of("cas", cas), "data", Map.of("format", "2", "data", json, "secrets", sealed,
                        "mac", JSON.readTree(mac.body()).path("data").path("hmac").asString())))), "v2 write " + path);
    }

    private String legacyEncrypt(String key, String plaintext) {
        HttpResponse<String> encrypted = vault.api("POST", "transit/encrypt/" + key, JSON.writeValueAsString(
                Map.of("plaintext", Base64.getEncoder().encodeToString(plaintext.getBytes(StandardCharsets.UTF_8)))));
        expectSuccess(encrypted, "encrypt");
        return JSON.readTree(encrypted.body()).path("data").path("ciphertext").asString();
    }

    private void legacyWrite(SecretPath path, Map<String, Object> data, Map<String, String> sealed) {
        expectSuccess(vault.api("POST", "secret/data/" + prefix + path.relative(), JSON.writeValueAsString(
                Map.of("options", Map.of("cas", 0), "data",
                        Map.of("data", JSON.writeValueAsString(data), "secrets", sealed)))), "legacy write " + path);
    }

    private static void expectSuccess(HttpResponse<String> response, String what) {
        assertThat(response.statusCode() / 100).as("%s: %s %s", what, response.statusCode(), response.body())
            .isEqualTo(2);
    }
}
