import CofferJSON

#if canImport(Glibc)
import Glibc
#endif

/// A fast path for decoding the crypto routes' request bodies, in front of `JSONDecoder` (which
/// took 6 % of an encrypt request and 13 % of a batch under load).
///
/// It accepts only a strict subset of JSON whose meaning is unambiguous — objects, arrays, null,
/// and strings without escapes in valid UTF-8 — and only the exact shapes of the requests, with
/// no unknown or repeated member. Anything else (an escape, a number, an unknown member, a
/// duplicate, any syntax error) returns nil and the body goes to `JSONDecoder`, which decides
/// as before. So the fast path can only ever agree with `JSONDecoder`; the tests check that on
/// generated and mutated bodies.
enum FastRequestDecoding {
    indirect enum Value {
        case string(String)
        case object([(String, Value)])
        case array([Value])
        case null
    }

    /// The document, or nil when it is outside the subset.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Value? {
        var parser = Parser(bytes: bytes)
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipWhitespace()
        return parser.index == bytes.count ? value : nil
    }

    struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        static let maximumDepth = 4

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> Value? {
            skipWhitespace()
            guard index < bytes.count, depth <= Self.maximumDepth else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "n"):
                guard index + 4 <= bytes.count, bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l") else { return nil }
                index += 4
                return .null
            default: return nil
            }
        }

        mutating func string() -> String? {
            index += 1  // the opening quote
            let start = index
            guard start < bytes.count, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                let quote = memchr(base + start, Int32(UInt8(ascii: "\"")), bytes.count - start)
            else { return nil }
            let end = start + (UnsafeRawPointer(quote) - UnsafeRawPointer(base + start))
            // Escapes and control characters: JSONDecoder's business. (No quote can be inside:
            // `end` is the first one.)
            guard !JSONEscaping.needsEscaping(UnsafeRawBufferPointer(start: base + start, count: end - start)) else { return nil }
            index = end + 1
            return String(validating: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
        }

        mutating func object(depth: Int) -> Value? {
            index += 1
            var members: [(String, Value)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
                guard !members.contains(where: { $0.0 == key }) else { return nil }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let member = value(depth: depth + 1) else { return nil }
                members.append((key, member))
                skipWhitespace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                return nil
            }
        }

        mutating func array(depth: Int) -> Value? {
            index += 1
            var elements: [Value] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                guard let element = value(depth: depth + 1) else { return nil }
                elements.append(element)
                skipWhitespace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
                return nil
            }
        }
    }
}

/// A request type the fast path can build from a parsed document; nil means "not exactly my
/// shape" and sends the body to `JSONDecoder`.
protocol FastDecodable {
    init?(fast value: FastRequestDecoding.Value)
}

extension FastRequestDecoding {
    /// `{"k": "v", …}` with string values only, or null.
    static func context(_ value: FastRequestDecoding.Value?) -> [String: String]?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .object(let members)?:
            var context: [String: String] = [:]
            for (key, member) in members {
                guard case .string(let text) = member else { return nil }
                context[key] = text
            }
            return .some(context)
        default: return nil
        }
    }

    /// The members of an object whose keys are all among `allowed`, by key.
    static func members(_ value: FastRequestDecoding.Value, allowed: Set<String>) -> [String: FastRequestDecoding.Value]? {
        guard case .object(let members) = value, members.allSatisfy({ allowed.contains($0.0) }) else { return nil }
        return Dictionary(uniqueKeysWithValues: members)
    }
}

extension CryptoRoutes.EncryptRequest: FastDecodable {
    init?(fast value: FastRequestDecoding.Value) {
        guard let members = FastRequestDecoding.members(value, allowed: ["plaintext", "context"]),
            case .string(let plaintext)? = members["plaintext"], let context = FastRequestDecoding.context(members["context"])
        else { return nil }
        self.init(plaintext: plaintext, context: context)
    }
}

extension CryptoRoutes.CiphertextRequest: FastDecodable {
    init?(fast value: FastRequestDecoding.Value) {
        guard let members = FastRequestDecoding.members(value, allowed: ["ciphertext", "context"]),
            case .string(let ciphertext)? = members["ciphertext"], let context = FastRequestDecoding.context(members["context"])
        else { return nil }
        self.init(ciphertext: ciphertext, context: context)
    }
}

extension CryptoRoutes.Batch: FastDecodable where Item: FastDecodable {
    init?(fast value: FastRequestDecoding.Value) {
        guard let members = FastRequestDecoding.members(value, allowed: ["items"]), case .array(let elements)? = members["items"] else { return nil }
        var items: [Item] = []
        items.reserveCapacity(elements.count)
        for element in elements {
            guard let item = Item(fast: element) else { return nil }
            items.append(item)
        }
        self.init(items: items)
    }
}
