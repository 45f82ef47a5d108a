//! The vault clients as `huntbook-core` secret sources.

use huntbook_core::secret::{Secret, SecretError, SecretKind, SecretRef, SecretSource};

use crate::vault::{Blocking, HashiVaultClient, KeyVaultClient, VaultError};

impl SecretSource for Blocking<KeyVaultClient> {
    fn kind(&self) -> SecretKind {
        SecretKind::KeyVault
    }

    fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        let SecretRef::KeyVault { vault, name } = reference else {
            return Err(not_mine(reference));
        };
        self.run(|kv| kv.get_secret(vault, name))
            .map_err(|e| failed(SecretKind::KeyVault, reference, e))
    }
}

impl SecretSource for Blocking<HashiVaultClient> {
    fn kind(&self) -> SecretKind {
        SecretKind::HashiCorpVault
    }

    fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        let SecretRef::HashiCorpVault { mount, path, key } = reference else {
            return Err(not_mine(reference));
        };
        self.run(|vault| {
            let mount = mount.as_deref().unwrap_or(vault.default_mount());
            vault.read_kv2(mount, path, key)
        })
        .map_err(|e| failed(SecretKind::HashiCorpVault, reference, e))
    }
}

/// A reference of another kind: the resolver never sends one, but if it did, say
/// that this source cannot resolve it rather than guess.
fn not_mine(reference: &SecretRef) -> SecretError {
    SecretError::NoSource {
        kind: reference.kind(),
        reference: reference.to_string(),
    }
}

/// Vault errors never hold the secret value, so their text can go into the message.
fn failed(kind: SecretKind, reference: &SecretRef, error: VaultError) -> SecretError {
    SecretError::Source {
        kind,
        reference: reference.to_string(),
        message: error.to_string(),
    }
}
