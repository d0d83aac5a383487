/// How a ``KeyRing`` encrypts, and how often it should be rotated. One value per ring: every
/// version of the ring seals with the same settings, so changing them changes only new envelopes.
///
/// The design this replaces compressed every message above a fixed, built-in size. Here the
/// threshold is a per-ring choice and **off by default**: compression makes ciphertext length
/// depend on plaintext content (CRIME, BREACH), so only rings holding data no attacker can
/// influence should turn it on.
public struct KeyRingSettings: Hashable, Sendable, CustomStringConvertible {
    /// Largest threshold the ring file can record.
    public static let maximumCompressionThreshold = Int(UInt32.max)
    /// Longest rotation period the ring file can record (about 136 years, in seconds).
    public static let maximumRotationPeriodSeconds = Int64(UInt32.max)

    /// The AEAD that seals each envelope's payload.
    public let algorithm: AEADAlgorithm
    /// Plaintexts of at least this many bytes are zlib-compressed (if that makes them smaller);
    /// `nil` turns compression off.
    public let compressionThreshold: Int?
    /// How long a primary version should serve before ``KeyRing/isRotationDue(now:)`` says so;
    /// `nil` means no schedule. Whole seconds.
    public let rotationPeriod: Duration?

    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` for a negative or oversized
    ///   threshold, or a rotation period that is not a positive whole number of seconds within
    ///   ``maximumRotationPeriodSeconds``.
    public init(algorithm: AEADAlgorithm = .aes256GCM, compressionThreshold: Int? = nil, rotationPeriod: Duration? = nil) throws {
        if let compressionThreshold {
            guard (0...Self.maximumCompressionThreshold).contains(compressionThreshold) else {
                throw CofferCryptoError(.invalidParameter, detail: "compression threshold must be 0…\(Self.maximumCompressionThreshold) bytes")
            }
        }
        if let rotationPeriod {
            let (seconds, attoseconds) = rotationPeriod.components
            guard attoseconds == 0, (1...Self.maximumRotationPeriodSeconds).contains(seconds) else {
                throw CofferCryptoError(.invalidParameter, detail: "rotation period must be a positive whole number of seconds")
            }
        }
        self.algorithm = algorithm
        self.compressionThreshold = compressionThreshold
        self.rotationPeriod = rotationPeriod
    }

    /// AES-256-GCM, no compression, no rotation schedule.
    public static let `default` = try! KeyRingSettings()

    /// The rotation period in whole seconds, as recorded in the ring file.
    var rotationPeriodSeconds: Int64? { rotationPeriod?.components.seconds }

    /// The envelope options these settings mean.
    public var envelopeOptions: EnvelopeOptions {
        EnvelopeOptions(algorithm: algorithm, compression: compressionThreshold.map { .zlib(threshold: $0) } ?? .disabled)
    }

    public var description: String {
        let compression = compressionThreshold.map { "zlib from \($0) bytes" } ?? "no compression"
        let rotation = rotationPeriodSeconds.map { "rotate every \($0) s" } ?? "no rotation schedule"
        return "\(algorithm), \(compression), \(rotation)"
    }
}
