#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// A secret in the server's configuration given sealed under the root key instead of in clear:
///
/// ```
/// "coffer-sealed:" || base64url(SealedKeyMaterial)   (docs/FORMAT.md, "Key store")
/// ```
/// with the associated data bound to the setting's name, so a sealed value cannot be moved to
/// another setting (a sealed database password pasted where a different secret is expected does
/// not open). A configuration file holding only sealed values can be committed or shared
/// without giving away the secrets; whoever holds the root key file or HSM can open them.
///
/// A passphrase root key exists only after the unseal, later than the configuration is read, so
/// sealed values need a key-file or HSM root key.
public enum ConfigurationSecret {
    public static let prefix = "coffer-sealed:"

    public static func isSealed(_ value: String) -> Bool { value.hasPrefix(prefix) }

    public static func seal(_ secret: String, setting: String, under rootKey: any RootKey) throws -> String {
        let sealed = try rootKey.seal(KeyMaterial(Array(secret.utf8)), context: .configurationSecret(setting: setting))
        return prefix + Base64URL.encode(sealed.bytes)
    }

    /// - Throws: ``KeyStoreError/Code/integrityFailure`` when the value is malformed, sealed under
    ///   another root key or for another setting (one error; the message names the setting only).
    public static func open(_ value: String, setting: String, with rootKey: any RootKey) throws -> String {
        guard value.hasPrefix(prefix), let bytes = Base64URL.decode(Substring(value.dropFirst(prefix.count))),
            let sealed = try? SealedKeyMaterial(bytes: bytes),
            let material = try? rootKey.unseal(sealed, context: .configurationSecret(setting: setting)),
            let text = String(bytes: material.bytes, encoding: .utf8)
        else {
            throw KeyStoreError(.integrityFailure, detail: "the sealed value of \(setting) does not open with this root key (sealed under another root key, for another setting, or damaged)")
        }
        return text
    }
}
