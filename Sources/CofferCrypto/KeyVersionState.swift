/// The life-cycle state of one version in a ``KeyRing``.
///
/// ```
/// active ⇄ decryptOnly ⇄ disabled      (any of these three ⇄ any other)
///    └──────────┴───────────┴──→ destroyed   (terminal; the key bytes are dropped)
/// ```
/// The primary is always ``active``. The raw value is the byte recorded in the ring file and
/// never changes meaning.
///
/// A struct with static members rather than a public enum, so a state can be added later (say
/// "destroy scheduled") without breaking callers' exhaustive `switch`es.
public struct KeyVersionState: Hashable, Sendable, CustomStringConvertible {
    /// The byte recorded in the ring file.
    public let rawValue: UInt8
    /// The spelling used by the command line and `description`.
    public let description: String

    private init(_ rawValue: UInt8, _ name: String) {
        self.rawValue = rawValue
        self.description = name
    }

    /// Decrypts; may be made primary and then encrypts.
    public static let active = KeyVersionState(1, "active")
    /// Decrypts old data but can never be primary, so nothing new is sealed under it: the state
    /// for a version being phased out while its ciphertexts are rewrapped.
    public static let decryptOnly = KeyVersionState(2, "decrypt-only")
    /// Refuses every use but keeps its bytes, so it can be re-enabled. Disable before you
    /// destroy: anything still depending on the version fails loudly and reversibly.
    public static let disabled = KeyVersionState(3, "disabled")
    /// The key bytes are gone for good; the version number stays so it is never reused.
    public static let destroyed = KeyVersionState(4, "destroyed")

    /// Every state this version of Coffer knows, in raw-value order.
    public static let allCases: [KeyVersionState] = [.active, .decryptOnly, .disabled, .destroyed]

    /// The state recorded as `rawValue`, or `nil` for a byte this version does not know.
    public init?(rawValue: UInt8) {
        guard let state = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = state
    }

    /// Parses ``description``'s spelling: `active`, `decrypt-only`, `disabled`, `destroyed`.
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = state
    }

    /// Whether a version in this state may open (and rewrap) ciphertexts.
    public var allowsDecryption: Bool { self == .active || self == .decryptOnly }
}
