package dev.postern.broker.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The store in one local file, for a single machine: trials, the README's first command, small
 * installs. The whole file is encrypted with AES-256-GCM; every write replaces it atomically
 * (temp file, fsync, rename, fsync of the folder), so a crash at any moment leaves either the
 * old or the new file and every acknowledged write survives. A lock file keeps a second process
 * away. Production and every multi-replica setup use {@link VaultSecretStore}.
 */
public final class EmbeddedSecretStore implements SecretStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedSecretStore.class);

    private static final byte[] MAGIC = "PSTN-STORE-1".getBytes(StandardCharsets.US_ASCII);

    private static final int NONCE_BYTES = 12;

    private static final int TAG_BITS = 128;

    private static final TypeReference<Map<String, Entry>> ENTRIES = new TypeReference<>() {
    };

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY = PosixFilePermissions
        .asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final Path file;

    private final SecretKey key;

    private final JsonMapper json = JsonMapper.builder().build();

    private final SecureRandom random = new SecureRandom();

    private final FileChannel lockChannel;

    private final FileLock lock;

    /** Guarded by {@code this}; replaced, never mutated, so readers see a consistent map. */
    private volatile Map<String, Entry> entries;

    /** One stored document: the version and content as they are serialized. */
    record Entry(long version, Map<String, Object> data, Map<String, String> secrets) {

        @Override
        public String toString() {
            return "Entry[version=" + version + "]";
        }
    }

    /**
     * Opens (or creates) the store at {@code file}, decrypting it with {@code key}.
     *
     * @throws SecretStoreException when the file cannot be read with this key or another process
     *         holds it
     */
    public EmbeddedSecretStore(Path file, SecretKey key) {
        this.file = file.toAbsolutePath();
        this.key = key;
        try {
            Files.createDirectories(this.file.getParent());
            this.lockChannel = FileChannel.open(lockFile(),
                    Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), OWNER_ONLY);
            this.lock = tryLock(lockChannel);
        }
        catch (IOException ex) {
            throw new SecretStoreException("cannot open the embedded store at " + this.file, ex);
        }
        if (lock == null) {
            closeQuietly();
            throw new SecretStoreException("the embedded store at " + this.file
                    + " is in use by another process; the embedded store serves one broker process, use Vault for more");
        }
        try {
            this.entries = load();
        }
        catch (RuntimeException ex) {
            // A file that does not open must not keep the lock: the next try would read "in use".
            closeQuietly();
            throw ex;
        }
        log.info("Embedded store opened at {} with {} documents", this.file, entries.size());
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        }
        catch (OverlappingFileLockException ex) {
            return null; // held by this very process, through another store instance
        }
    }

    private Path lockFile() {
        return file.resolveSibling(file.getFileName() + ".lock");
    }

    @Override
    public Optional<StoredDocument> read(SecretPath path) {
        requireDocument(path);
        Entry entry = entries.get(path.relative());
        return Optional.ofNullable(entry)
                .map(e -> new StoredDocument(path, e.version(), new SecretDocument(e.data(), e.secrets())));
    }

    @Override
    public synchronized long write(SecretPath path, SecretDocument document, long expectedVersion) {
        requireDocument(path);
        Entry current = entries.get(path.relative());
        long currentVersion = current == null ? NEW : current.version();
        if (currentVersion != expectedVersion) {
            throw new VersionConflictException(path, expectedVersion);
        }
        long version = currentVersion + 1;
        Map<String, Entry> next = new HashMap<>(entries);
        next.put(path.relative(), new Entry(version, document.data(), document.secrets()));
        persist(next);
        entries = next;
        return version;
    }

    @Override
    public synchronized void delete(SecretPath path) {
        requireDocument(path);
        if (!entries.containsKey(path.relative())) {
            return;
        }
        Map<String, Entry> next = new HashMap<>(entries);
        next.remove(path.relative());
        persist(next);
        entries = next;
    }

    @Override
    public Listing listing(SecretPath folder) {
        String prefix = folder.relative() + "/";
        List<String> documents = new ArrayList<>();
        Set<String> folders = new TreeSet<>();
        for (String key : entries.keySet()) {
            if (key.startsWith(prefix)) {
                int slash = key.indexOf('/', prefix.length());
                if (slash < 0) {
                    documents.add(key.substring(prefix.length()));
                }
                else {
                    // A folder exists while a document lies somewhere below it, as in Vault.
                    folders.add(key.substring(prefix.length(), slash));
                }
            }
        }
        documents.sort(null);
        return new Listing(documents, List.copyOf(folders));
    }

    @Override
    public Map<String, Object> checkHealth() {
        if (!Files.isWritable(file.getParent())) {
            throw new StoreUnavailableException("the embedded store's folder " + file.getParent() + " is not writable");
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("backend", "embedded");
        details.put("file", file.toString());
        details.put("documents", entries.size());
        return details;
    }

    @Override
    public void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        try {
            if (lock != null && lock.isValid()) {
                lock.release();
            }
            lockChannel.close();
        }
        catch (IOException ex) {
            log.warn("Could not release the embedded store's lock file {}", lockFile(), ex);
        }
    }

    private static void requireDocument(SecretPath path) {
        if (!path.isDocument()) {
            throw new InvalidSecretPathException("a document path needs an id after the collection");
        }
    }

    private Map<String, Entry> load() {
        if (!Files.exists(file)) {
            return Map.of();
        }
        try {
            byte[] content = Files.readAllBytes(file);
            return Map.copyOf(json.readValue(decrypt(content), ENTRIES));
        }
        catch (IOException ex) {
            throw new SecretStoreException("cannot read the embedded store at " + file, ex);
        }
    }

    private void persist(Map<String, Entry> next) {
        byte[] content = encrypt(json.writeValueAsBytes(new TreeMap<>(next)));
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE), OWNER_ONLY)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            catch (AtomicMoveNotSupportedException ex) {
                throw new SecretStoreException("the file system of " + file + " cannot rename atomically", ex);
            }
            try (FileChannel folder = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                // The rename itself is only durable once the folder's entry is on disk.
                folder.force(true);
            }
        }
        catch (IOException ex) {
            throw new SecretStoreException("cannot write the embedded store at " + file, ex);
        }
    }

    private byte[] encrypt(byte[] plain) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(MAGIC);
            byte[] sealed = cipher.doFinal(plain);
            ByteBuffer out = ByteBuffer.allocate(MAGIC.length + NONCE_BYTES + sealed.length);
            return out.put(MAGIC).put(nonce).put(sealed).array();
        }
        catch (GeneralSecurityException ex) {
            throw new SecretStoreException("cannot encrypt the embedded store", ex);
        }
        finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    private byte[] decrypt(byte[] content) {
        if (content.length < MAGIC.length + NONCE_BYTES
                || !Arrays.equals(Arrays.copyOf(content, MAGIC.length), MAGIC)) {
            throw new SecretStoreException("the file at " + file + " is not a Postern embedded store");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key,
                    new GCMParameterSpec(TAG_BITS, content, MAGIC.length, NONCE_BYTES));
            cipher.updateAAD(MAGIC);
            int offset = MAGIC.length + NONCE_BYTES;
            return cipher.doFinal(content, offset, content.length - offset);
        }
        catch (GeneralSecurityException ex) {
            throw new SecretStoreException("cannot decrypt the embedded store at " + file
                    + ": the master key is not the one it was written with, or the file was altered", ex);
        }
    }
}
