/// Anything that can hand out key-encryption keys by reference: a key ring, a key store, a KMS
/// client. Returns `nil` for keys it does not hold (or holds only in a state that forbids use).
public protocol KeyEncryptionKeyResolving {
    func keyEncryptionKey(for reference: KeyReference) throws -> KeyEncryptionKey?
}

extension Array: KeyEncryptionKeyResolving where Element == KeyEncryptionKey {
    public func keyEncryptionKey(for reference: KeyReference) throws -> KeyEncryptionKey? {
        first { $0.reference == reference }
    }
}
