/// The life-cycle state of one version in a ``KeyRing``.
///
/// ```
/// active ⇄ decryptOnly ⇄ disabled      (any of these three ⇄ any other)
///    └──────────┴───────────┴──→ destroyed   (terminal; the key bytes are dropped)
/// ```
/// The primary is always ``active``. The raw value is the byte recorded in the ring file and
/// never changes meaning.
public enum KeyVersionState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Decrypts; may be made primary and then encrypts.
    case active = 1
    /// Decrypts old data but can never be primary, so nothing new is sealed under it: the state
    /// for a version being phased out while its ciphertexts are rewrapped.
    case decryptOnly = 2
    /// Refuses every use but keeps its bytes, so it can be re-enabled. Disable before you
    /// destroy: anything still depending on the version fails loudly and reversibly.
    case disabled = 3
    /// The key bytes are gone for good; the version number stays so it is never reused.
    case destroyed = 4

    /// Whether a version in this state may open (and rewrap) ciphertexts.
    public var allowsDecryption: Bool { self == .active || self == .decryptOnly }

    /// The spelling used by the command line and `description`: `active`, `decrypt-only`,
    /// `disabled`, `destroyed`.
    public var description: String {
        switch self {
        case .active: "active"
        case .decryptOnly: "decrypt-only"
        case .disabled: "disabled"
        case .destroyed: "destroyed"
        }
    }

    /// Parses ``description``'s spelling.
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = state
    }
}
