import CofferCrypto

/// What an identity may do: statements that allow or deny operations on keys, matched by name
/// pattern and, optionally, by label. Deny wins; anything not allowed is denied.
public struct Policy: Sendable, Hashable {
    public let name: String
    public let statements: [PolicyStatement]

    /// - Throws: ``KeyStoreError/Code/invalidArgument`` for a bad name or an empty statement.
    public init(name: String, statements: [PolicyStatement]) throws {
        guard (try? KeyIdentifier(name)) != nil else {
            throw KeyStoreError(.invalidArgument, detail: "a policy name follows the key-name rules")
        }
        guard statements.count <= 256 else { throw KeyStoreError(.invalidArgument, detail: "at most 256 statements") }
        self.name = name
        self.statements = statements
    }

    /// Whether `operation` on the key `keyName` (carrying `labels`) is allowed. Operations on
    /// no key (listing, random bytes) pass `keyName: nil` and match statements whose key pattern
    /// is `*`.
    public func allows(_ operation: String, keyName: String?, labels: Set<KeyLabel> = []) -> Bool {
        let matching = statements.filter { $0.matches(operation, keyName: keyName, labels: labels) }
        if matching.contains(where: { $0.effect == .deny }) { return false }
        return matching.contains { $0.effect == .allow }
    }
}

public struct PolicyStatement: Sendable, Hashable {
    public enum Effect: String, Sendable, Hashable {
        case allow
        case deny
    }

    public let effect: Effect
    /// Operation names (`encrypt`, `key.create`, …) or patterns (`key.*`, `*`).
    public let operations: [String]
    /// Key-name patterns: `*` matches any run of characters (`payments-*`, `*`).
    public let keys: [String]
    /// When not empty, the statement matches only keys carrying at least one of these labels.
    public let labels: [KeyLabel]

    public init(effect: Effect, operations: [String], keys: [String], labels: [KeyLabel] = []) throws {
        guard !operations.isEmpty, !keys.isEmpty, operations.count <= 64, keys.count <= 256,
            (operations + keys).allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 })
        else { throw KeyStoreError(.invalidArgument, detail: "a statement needs 1–64 operations and 1–256 key patterns") }
        self.effect = effect
        self.operations = operations
        self.keys = keys
        self.labels = labels
    }

    func matches(_ operation: String, keyName: String?, labels keyLabels: Set<KeyLabel>) -> Bool {
        guard operations.contains(where: { Glob.matches($0, operation) }) else { return false }
        if let keyName {
            guard keys.contains(where: { Glob.matches($0, keyName) }) else { return false }
            return labels.isEmpty || labels.contains(where: keyLabels.contains)
        }
        return keys.contains("*") && labels.isEmpty
    }
}

/// `*`-only glob matching over bytes, iterative (no backtracking blow-up on hostile patterns).
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
