/// Matching of PKCS#11 token labels.
///
/// `CK_TOKEN_INFO.label` is a fixed 32-byte UTF-8 field padded with blanks
/// and not NUL-terminated. Comparison is exact after removing that padding:
/// no case folding or prefix matching, so a look-alike token cannot be
/// mistaken for the one holding the root key.
enum TokenLabel {
    static let fieldLength = 32

    /// The label with its trailing blank (and, defensively, NUL) padding removed.
    static func unpadded(_ field: some Collection<UInt8>) -> [UInt8] {
        var bytes = Array(field)
        while let last = bytes.last, last == 0x20 || last == 0x00 {
            bytes.removeLast()
        }
        return bytes
    }

    /// Whether a token's padded label field names `label`.
    static func field(_ field: some Collection<UInt8>, matches label: String) -> Bool {
        let wanted = Array(label.utf8)
        guard wanted.count <= fieldLength else { return false }
        return unpadded(field) == unpadded(wanted)
    }
}
