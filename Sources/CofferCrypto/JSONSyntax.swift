#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks that bytes are one JSON value (object, array, string, number, bool or null), using
/// the same `JSONDecoder` verifiers decode with. Nothing is kept: this only answers "is it JSON?".
enum JSONSyntax {
    static func isValid(_ bytes: [UInt8]) -> Bool {
        (try? JSONDecoder().decode(AnyValue.self, from: Data(bytes))) != nil
    }

    /// Decodes any JSON value and discards it.
    private struct AnyValue: Decodable {
        init(from decoder: any Decoder) throws {
            if var array = try? decoder.unkeyedContainer() {
                while !array.isAtEnd { _ = try array.decode(AnyValue.self) }
                return
            }
            if let object = try? decoder.container(keyedBy: AnyKey.self) {
                for key in object.allKeys { _ = try object.decode(AnyValue.self, forKey: key) }
                return
            }
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { return }
            if (try? single.decode(Bool.self)) != nil { return }
            if (try? single.decode(Double.self)) != nil { return }
            if (try? single.decode(Decimal.self)) != nil { return }
            _ = try single.decode(String.self)
        }
    }

    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }
}
