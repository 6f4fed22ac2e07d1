# Postern's Vault / OpenBao policy: least privilege for the default mounts.
#
#   KV v2 mount  secret/     documents under the prefix postern/
#   Transit      transit/    key postern-v2 (derived; wraps the data keys that encrypt and MAC documents)
#                            key postern    (legacy; only decrypts documents written before v2)
#
# Exactly the calls VaultSecretStore makes, and nothing else. Install it with
#
#   bao policy write postern docs/vault/postern-policy.hcl     (or: vault policy write ...)
#
# Other mounts, prefix or key name (postern.store.vault.kv-mount, .prefix, .transit-mount,
# .transit-key): replace "secret", "postern/" and "transit"/"postern" below accordingly (the
# derived key is always the transit-key setting followed by "-v2").
#
# VaultPolicyIntegrationTests loads this very file into a real OpenBao, gives a token nothing but
# this policy (not even "default") and runs the store with it.

# Documents: read (GET), and write with check-and-set (POST with options.cas). KV v2 needs
# "create" for a document that does not exist yet and "update" for a new version of one that does.
# No "delete" here: Postern never soft-deletes versions (it removes a document through metadata).
path "secret/data/postern/*" {
  capabilities = ["create", "read", "update"]
}

# Folders and removal: "list" for LIST secret/metadata/postern/<collection>/ (apps, accounts,
# clients, audit, ...); "delete" for DELETE secret/metadata/postern/<path>, which removes a
# document with every old version, so no earlier version keeps a secret.
# Postern never lists the prefix itself (secret/metadata/postern), so no rule names it.
path "secret/metadata/postern/*" {
  capabilities = ["list", "delete"]
}

# At start Postern reads the derived Transit key to check that it exists, is derived, and when it
# was created (legacy documents written after that are refused). It does NOT create it under this
# policy: create the key once, as an operator, with `bao write transit/keys/postern-v2 derived=true`
# before the first start. (Granting "create" and "update" here would let Postern create it itself,
# and would also let it change the key's configuration: not recommended.)
path "transit/keys/postern-v2" {
  capabilities = ["read"]
}

# Data keys (envelope encryption): a replica asks Transit for a data key (random, returned in the
# clear and wrapped) when it starts and then after 2^24 encryptions or 24 hours, and encrypts and
# MACs documents with it locally; the wrapped key is stored in each document. "update" (POST) on
# datakey/plaintext; "decrypt" unwraps the key of a document written by another replica or before a
# restart, once per key. Both under a context that names this store's KV location.
path "transit/datakey/plaintext/postern-v2" {
  capabilities = ["update"]
}

path "transit/decrypt/postern-v2" {
  capabilities = ["update"]
}

# Documents in the format before data keys ("format": "2": each secret field encrypted at Transit,
# a Transit HMAC) are still read: "decrypt" above and "verify" here (a verified document is then
# remembered for 10 minutes). Any write rewrites a document with a data key; Postern no longer calls
# transit/encrypt or transit/hmac.
path "transit/verify/postern-v2" {
  capabilities = ["update"]
}

# Legacy: documents written before the v2 format have secrets under the non-derived key "postern".
# Postern decrypts them once, at the start that migrates them (and when such a document is read
# before that). Once the log said the migration ran (or if you start on an empty store), remove
# this rule; Postern never encrypts with this key.
path "transit/decrypt/postern" {
  capabilities = ["update"]
}

# sys/health needs no rule: it is an unauthenticated endpoint, and Postern's health check and
# start-up check call it without relying on this policy.
#
# Token renewal and revocation of a login token (auth/token/renew-self while running,
# auth/token/revoke-self at shutdown; spring-vault's session manager does both for AppRole logins)
# are granted by Vault's built-in "default" policy, which Vault attaches to every token unless the
# role or token sets token_no_default_policy=true. If you set that, add:
#
#   path "auth/token/renew-self"  { capabilities = ["update"] }
#   path "auth/token/revoke-self" { capabilities = ["update"] }
