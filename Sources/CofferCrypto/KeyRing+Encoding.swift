#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The serialized key ring: the plaintext inside a ``KeyRingFile`` (docs/FORMAT.md, "Key ring
/// file"). It holds key bytes, so it exists only in memory and only long enough to be sealed or
/// parsed; it is internal to the module for that reason.
///
/// ```
/// body   = magic C0 FF EE 52 || version 0x01 || u8 nameLength || name
///       || algorithm (u8) || flags (u8)
///       || u32 compressionThreshold || u32 rotationPeriodSeconds
///       || u32 primaryVersion || u32 versionCount || record × versionCount
/// flags  = bit 0: compression on; bit 1: rotation period set; bits 2–7 zero
/// record = u32 version || u64 createdAt (Unix seconds, at most 253402300799, the end of 9999)
///       || u8 state || key (32; absent if destroyed)
/// ```
/// Binary rather than JSON: there is exactly one encoding of each ring (no key order,
/// whitespace, number spellings or escapes to canonicalize), key bytes never pass through a
/// string type that cannot be wiped, and the decoder is a bounds-checked cursor that rejects
/// anything it did not expect.
extension KeyRing {
    static let encodingMagic: [UInt8] = [0xC0, 0xFF, 0xEE, 0x52]
    static let encodingVersion: UInt8 = 1
    static let compressionFlag: UInt8 = 0x01
    static let rotationPeriodFlag: UInt8 = 0x02

    /// The canonical encoding, key bytes included. Callers wipe it after use.
    func encoded() -> [UInt8] {
        var out = Self.encodingMagic + [Self.encodingVersion]
        let nameBytes = name.utf8Bytes
        out.append(UInt8(nameBytes.count))
        out.append(contentsOf: nameBytes)
        out.append(settings.algorithm.rawValue)
        out.append(
            (settings.compressionThreshold == nil ? 0 : Self.compressionFlag)
                | (settings.rotationPeriodSeconds == nil ? 0 : Self.rotationPeriodFlag))
        out.appendBigEndian(UInt32(settings.compressionThreshold ?? 0))
        out.appendBigEndian(UInt32(settings.rotationPeriodSeconds ?? 0))
        out.appendBigEndian(primaryVersion.rawValue)
        out.appendBigEndian(UInt32(versions.count))
        for entry in versions {
            out.appendBigEndian(entry.version.rawValue)
            out.appendBigEndian(UInt64(entry.createdAt.timeIntervalSince1970))
            out.append(entry.state.rawValue)
            entry.material?.withUnsafeSecretBytes { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Parses the canonical encoding strictly. Throws ``CofferCryptoError/Code/invalidKeyRing``
    /// for a wrong magic, an unknown format version, algorithm or state, set reserved flag bits,
    /// non-zero fields whose flag is clear, a zero rotation period, versions that are not exactly
    /// 1…n in order (so duplicates too), a missing or non-active primary, and trailing bytes.
    init(encoded bytes: [UInt8]) throws {
        func invalid(_ detail: String) -> CofferCryptoError { CofferCryptoError(.invalidKeyRing, detail: detail) }
        var reader = ByteReader(bytes)
        guard reader.readBytes(4)?.elementsEqual(Self.encodingMagic) == true else { throw invalid("not a key ring") }
        guard reader.readByte() == Self.encodingVersion else { throw invalid("unknown key ring format version") }
        guard let nameLength = reader.readByte(), let nameBytes = reader.readBytes(Int(nameLength)),
            let name = KeyIdentifier(validating: nameBytes)
        else { throw invalid("ring name") }
        guard let algorithmByte = reader.readByte(), let algorithm = AEADAlgorithm(rawValue: algorithmByte) else {
            throw invalid("algorithm")
        }
        guard let flags = reader.readByte(), flags & ~(Self.compressionFlag | Self.rotationPeriodFlag) == 0 else {
            throw invalid("reserved flag bits")
        }
        guard let threshold = reader.readBigEndian(UInt32.self), let period = reader.readBigEndian(UInt32.self) else {
            throw invalid("truncated settings")
        }
        let hasCompression = flags & Self.compressionFlag != 0, hasPeriod = flags & Self.rotationPeriodFlag != 0
        guard hasCompression || threshold == 0 else { throw invalid("compression threshold without the compression flag") }
        guard hasPeriod ? period >= 1 : period == 0 else { throw invalid("rotation period") }
        let settings = try KeyRingSettings(
            algorithm: algorithm, compressionThreshold: hasCompression ? Int(threshold) : nil,
            rotationPeriod: hasPeriod ? .seconds(Int64(period)) : nil)
        guard let primaryRaw = reader.readBigEndian(UInt32.self), let primary = try? KeyVersion(primaryRaw) else {
            throw invalid("primary version")
        }
        guard let count = reader.readBigEndian(UInt32.self), count >= 1 else { throw invalid("version count") }
        var versions: [KeyRingVersion] = []
        for expected in 1...count {
            guard let number = reader.readBigEndian(UInt32.self), number == expected else {
                throw invalid("versions must be 1…n in order")
            }
            guard let seconds = reader.readBigEndian(UInt64.self), seconds <= KeyRingVersion.latestCreationSeconds,
                let stateByte = reader.readByte(), let state = KeyVersionState(rawValue: stateByte)
            else { throw invalid("version record \(number)") }
            let version = try KeyVersion(number)
            var material: KeyEncryptionKey? = nil
            if state != .destroyed {
                guard let keyBytes = reader.readBytes(KeyEncryptionKey.byteCount) else { throw invalid("version record \(number)") }
                material = try KeyEncryptionKey(restoring: keyBytes, reference: KeyReference(identifier: name, version: version))
            }
            versions.append(
                KeyRingVersion(version: version, createdAt: Date(timeIntervalSince1970: TimeInterval(seconds)), state: state, material: material))
        }
        guard reader.isAtEnd else { throw invalid("trailing bytes") }
        guard let entry = versions.first(where: { $0.version == primary }), entry.state == .active else {
            throw invalid("the primary must be an active version of the ring")
        }
        try self.init(name: name, settings: settings, versions: versions, primaryVersion: primary)
    }
}
