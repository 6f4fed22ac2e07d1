# Postern's Vault / OpenBao policy: least privilege for the default mounts.
#
#   KV v2 mount  secret/     documents under the prefix postern/
#   Transit      transit/    key postern
#
# Exactly the calls VaultSecretStore makes, and nothing else. Install it with
#
#   bao policy write postern docs/vault/postern-policy.hcl     (or: vault policy write ...)
#
# Other mounts, prefix or key name (postern.store.vault.kv-mount, .prefix, .transit-mount,
# .transit-key): replace "secret", "postern/" and "transit"/"postern" below accordingly.
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

# At start Postern reads the Transit key to check that it exists. It does NOT create it under this
# policy: create the key once, as an operator, with `bao write -f transit/keys/postern` before the
# first start. (Granting "create" and "update" here would let Postern create it itself, and would
# also let it change the key's configuration: not recommended.)
path "transit/keys/postern" {
  capabilities = ["read"]
}

# Every secret field is encrypted before it is written to KV and decrypted after it is read,
# in batches (batch_input): both are "update" (POST) calls.
path "transit/encrypt/postern" {
  capabilities = ["update"]
}

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
