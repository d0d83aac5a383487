extension StringProtocol {
    /// The text without leading and trailing ASCII whitespace (space, tab, CR, LF, VT, FF) — what
    /// key files, recipient lists and pasted key texts are trimmed of. ASCII only on purpose: every
    /// text form Coffer parses is ASCII, so Unicode spaces are left in and then refused.
    package func trimmingASCIIWhitespace() -> Substring {
        let utf8 = Substring(self).utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }) else { return Substring(self)[Substring(self).endIndex...] }
        let last = utf8.lastIndex(where: { !isSpace($0) })!
        return Substring(Substring(self).utf8[first...last])
    }
}
