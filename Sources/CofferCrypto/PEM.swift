#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// RFC 7468 textual encoding: `-----BEGIN label-----`, base64 in lines of 64 characters,
/// `-----END label-----`. Decoding is strict (one canonical form) so a document cannot be
/// smuggled past a comparison by re-wrapping it.
enum PEM {
    static let lineLength = 64

    static func encode(label: String, _ bytes: [UInt8]) -> String {
        var out = "-----BEGIN \(label)-----\n"
        let base64 = Data(bytes).base64EncodedString()
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: lineLength, limitedBy: base64.endIndex) ?? base64.endIndex
            out += base64[index..<end] + "\n"
            index = end
        }
        return out + "-----END \(label)-----\n"
    }

    /// The label and bytes of the first PEM block in `text`; surrounding text is ignored.
    static func decode(_ text: String) -> (label: String, bytes: [UInt8])? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }) else { return nil }
        let label = String(lines[begin].dropFirst("-----BEGIN ".count).dropLast(5))
        guard let end = lines[(begin + 1)...].firstIndex(of: Substring("-----END \(label)-----")) else { return nil }
        let body = lines[(begin + 1)..<end]
        for (offset, line) in body.enumerated() {
            let isLast = offset == body.count - 1
            guard isLast ? (1...lineLength).contains(line.count) : line.count == lineLength else { return nil }
        }
        let base64 = body.joined()
        guard let data = Data(base64Encoded: base64), data.base64EncodedString() == base64 else { return nil }
        return (label, [UInt8](data))
    }
}
