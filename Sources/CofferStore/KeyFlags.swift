/// Switches on a key that guard against mistakes.
public struct KeyFlags: Hashable, Sendable {
    /// Whether the key's material may ever leave the store (export, plaintext backup tools).
    /// Off by default: a KMS key that can be exported is only as safe as every place it went.
    public var exportable: Bool
    /// Whether deletion is refused. Clearing the flag is a separate, audited step, so one
    /// mistaken call cannot start the countdown to destroying a key.
    public var deletionProtected: Bool

    public init(exportable: Bool = false, deletionProtected: Bool = false) {
        self.exportable = exportable
        self.deletionProtected = deletionProtected
    }
}
