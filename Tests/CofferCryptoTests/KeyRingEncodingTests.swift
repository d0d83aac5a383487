import Foundation
import Testing

@testable import CofferCrypto

/// The serialized key ring (docs/FORMAT.md, "Key ring file"): round trips, and strict rejection
/// of every malformed or non-canonical form.
@Suite struct KeyRingEncodingTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    /// The fields of an encoded ring, written out by hand from the spec, so each malformed case
    /// below is one field changed.
    struct Fields {
        struct Record {
            var version: UInt32
            var createdAt: UInt64
            var state: UInt8
            var key: [UInt8]?
        }
        var magic: [UInt8] = [0xC0, 0xFF, 0xEE, 0x52]
        var formatVersion: UInt8 = 1
        var name: [UInt8] = Array("orders".utf8)
        var nameLength: UInt8? = nil
        var algorithm: UInt8 = 1
        var flags: UInt8 = 0x03
        var threshold: UInt32 = 1024
        var period: UInt32 = 86_400
        var primary: UInt32 = 2
        var count: UInt32? = nil
        var records: [Record]
        var trailing: [UInt8] = []

        var bytes: [UInt8] {
            var out = magic + [formatVersion, nameLength ?? UInt8(name.count)] + name + [algorithm, flags]
            out.appendBigEndian(threshold)
            out.appendBigEndian(period)
            out.appendBigEndian(primary)
            out.appendBigEndian(count ?? UInt32(records.count))
            for record in records {
                out.appendBigEndian(record.version)
                out.appendBigEndian(record.createdAt)
                out.append(record.state)
                out += record.key ?? []
            }
            return out + trailing
        }
    }

    /// v1 destroyed, v2 active and primary, v3 active (staged); compression and a rotation period.
    static func sampleRing() throws -> KeyRing {
        var ring = try KeyRing.generate(
            name: try KeyIdentifier("orders"),
            settings: try KeyRingSettings(algorithm: .aes256GCM, compressionThreshold: 1024, rotationPeriod: .seconds(86_400)),
            now: t0)
        try ring.rotate(now: t0.addingTimeInterval(10))
        try ring.addVersion(now: t0.addingTimeInterval(20))
        try ring.setState(.destroyed, for: .first)
        return ring
    }

    static func fields(of ring: KeyRing) -> Fields {
        Fields(records: ring.versions.map { entry in
            Fields.Record(
                version: entry.version.rawValue, createdAt: UInt64(entry.createdAt.timeIntervalSince1970), state: entry.state.rawValue,
                key: entry.material.map { key in key.withUnsafeSecretBytes { Array($0) } })
        })
    }

    @Test func encoderWritesExactlyTheSpecifiedLayout() throws {
        let ring = try Self.sampleRing()
        let encoded = ring.encoded()
        #expect(encoded == Self.fields(of: ring).bytes)
        // A destroyed record has no key bytes: header 33 + 13 + (13 + 32) × 2.
        #expect(encoded.count == 4 + 1 + 1 + 6 + 2 + 16 + 13 + 2 * 45)
    }

    @Test func roundTripKeepsEverythingAndDestroyedStaysKeyless() throws {
        let ring = try Self.sampleRing()
        let decoded = try KeyRing(encoded: ring.encoded())
        #expect(decoded == ring)
        #expect(decoded.version(.first)?.hasKeyMaterial == false)
        #expect(decoded.version(.first)?.state == .destroyed)
        #expect(decoded.version(try KeyVersion(3))?.state == .active)
        #expect(decoded.primaryVersion == (try KeyVersion(2)))
        #expect(decoded.settings == ring.settings)
        #expect(decoded.versions.map(\.createdAt) == [Self.t0, Self.t0 + 10, Self.t0 + 20])
        let envelope = try ring.seal(patternBytes(2000), context: ["k": "v"])
        #expect(try decoded.open(envelope, context: ["k": "v"]) == patternBytes(2000))
    }

    @Test(arguments: [
        try! KeyRingSettings(), try! KeyRingSettings(algorithm: .chacha20Poly1305, compressionThreshold: 0),
        try! KeyRingSettings(algorithm: .aes256GCMSIV, rotationPeriod: .seconds(Int64(UInt32.max))),
        try! KeyRingSettings(compressionThreshold: Int(UInt32.max), rotationPeriod: .seconds(1)),
    ])
    func settingsRoundTrip(settings: KeyRingSettings) throws {
        let ring = try KeyRing.generate(name: try KeyIdentifier("a"), settings: settings, now: Self.t0)
        #expect(try KeyRing(encoded: ring.encoded()) == ring)
    }

    /// One malformed form per case, each a single change to a valid encoding.
    static let malformed: [(String, @Sendable (inout Fields) -> Void)] = [
        ("wrong magic", { $0.magic[3] = 0x45 }),
        ("format version 0", { $0.formatVersion = 0 }),
        ("format version 2", { $0.formatVersion = 2 }),
        ("empty name", { $0.name = [] }),
        ("name with a space", { $0.name = Array("ord ers".utf8) }),
        ("name starting with a dot", { $0.name = Array(".orders".utf8) }),
        ("name length past the name", { $0.nameLength = 200 }),
        ("algorithm 0", { $0.algorithm = 0 }),
        ("algorithm 4", { $0.algorithm = 4 }),
        ("reserved flag bit", { $0.flags |= 0x04 }),
        ("high flag bit", { $0.flags |= 0x80 }),
        ("threshold without compression flag", { $0.flags = 0x02 }),
        ("rotation period without its flag", { $0.flags = 0x01 }),
        ("rotation period flag with zero period", { $0.period = 0 }),
        ("primary 0", { $0.primary = 0 }),
        ("primary beyond the versions", { $0.primary = 4 }),
        ("primary destroyed", { $0.primary = 1 }),
        ("primary decrypt-only", { $0.records[1].state = 2 }),
        ("primary disabled", { $0.records[1].state = 3 }),
        ("no versions", { $0.records = []; $0.primary = 1 }),
        ("count larger than the records", { $0.count = 4 }),
        ("count smaller than the records", { $0.count = 2 }),
        ("duplicate version", { $0.records[2].version = 2 }),
        ("versions out of order", { $0.records.swapAt(1, 2); $0.primary = 3 }),
        ("versions not starting at 1", { for i in $0.records.indices { $0.records[i].version += 1 }; $0.primary = 3 }),
        ("gap in versions", { $0.records[2].version = 4 }),
        ("state 0", { $0.records[2].state = 0 }),
        ("state 5", { $0.records[2].state = 5 }),
        ("destroyed record with key bytes", { $0.records[0].key = [UInt8](repeating: 7, count: 32) }),
        ("live record without key bytes", { $0.records[2].key = nil }),
        ("short key", { $0.records[2].key?.removeLast() }),
        ("creation time after 9999", { $0.records[2].createdAt = 253_402_300_800 }),
        ("creation time at the top of u64", { $0.records[2].createdAt = .max }),
        ("trailing byte", { $0.trailing = [0] }),
    ]

    @Test(arguments: malformed.indices)
    func malformedEncodingsAreRejected(index: Int) throws {
        let (label, change) = Self.malformed[index]
        var fields = Self.fields(of: try Self.sampleRing())
        change(&fields)
        #expect(throws: CofferCryptoError(.invalidKeyRing), "\(label)") { try KeyRing(encoded: fields.bytes) }
    }

    /// Every proper prefix of a valid encoding is rejected, as is the empty input.
    @Test func everyTruncationIsRejected() throws {
        let encoded = try Self.sampleRing().encoded()
        for length in 0..<encoded.count {
            #expect(throws: CofferCryptoError(.invalidKeyRing)) { try KeyRing(encoded: Array(encoded.prefix(length))) }
        }
    }

    /// Flipping any single bit either is rejected or yields a ring that re-encodes to exactly
    /// those bytes (key bytes and times may legitimately change): there is one encoding per ring.
    @Test func singleBitFlipsAreRejectedOrCanonical() throws {
        let encoded = try Self.sampleRing().encoded()
        everySingleBitFlip(of: encoded) { flipped, _ in
            if let ring = try? KeyRing(encoded: flipped) { #expect(ring.encoded() == flipped) }
        }
    }
}
