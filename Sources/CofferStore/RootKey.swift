/// The key every stored key version is sealed under. Implementations: ``SoftwareRootKey`` (from a
/// key file or a passphrase) and the PKCS#11 root key in `CofferPKCS11Store`, whose key never
/// leaves the HSM.
///
/// Sealing is authenticated encryption with the ``SealingContext`` as associated data; unsealing
/// a row that was edited, moved or replayed fails.
public protocol RootKey: Sendable {
    /// The public name recorded in every sealed row.
    var id: RootKeyID { get }
    /// A short, non-secret description for logs: `key-file`, `passphrase`, `pkcs11:token/label`.
    var kind: String { get }

    func seal(_ material: KeyMaterial, context: SealingContext) throws -> SealedKeyMaterial

    /// - Throws: ``KeyStoreError/Code/integrityFailure`` when the bytes do not authenticate.
    func unseal(_ sealed: SealedKeyMaterial, context: SealingContext) throws -> KeyMaterial
}
