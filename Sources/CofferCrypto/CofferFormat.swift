/// Which Coffer format a byte string claims to be, from its magic bytes alone.
///
/// For user-facing messages only ("this is not a Coffer file", "made by a newer Coffer"): it
/// authenticates nothing, and decryption failures never say which check failed.
public enum CofferFormat: Equatable, Sendable {
    case envelope(version: UInt8)
    case envelopeText
    case stream(version: UInt8)
    case unknown

    public static func detect(_ prefix: some Collection<UInt8>) -> CofferFormat {
        let head = Array(prefix.prefix(Envelope.textPrefix.utf8.count))
        if head.count >= 5, head.prefix(4).elementsEqual(Envelope.magic) { return .envelope(version: head[4]) }
        if head.count >= 5, head.prefix(4).elementsEqual(StreamHeader.magic) { return .stream(version: head[4]) }
        if head.elementsEqual(Envelope.textPrefix.utf8) { return .envelopeText }
        return .unknown
    }
}
