import Foundation
import Testing

@testable import CofferCrypto

/// ``KeyRing`` behaviour: rotation without undecryptable windows, state rules, settings.
@Suite struct KeyRingTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let name = try! KeyIdentifier("orders")
    let context: EncryptionContext = ["tenant": "acme"]

    func ring(_ settings: KeyRingSettings = .default) throws -> KeyRing {
        try KeyRing.generate(name: name, settings: settings, now: Self.t0)
    }

    func v(_ number: UInt32) -> KeyVersion { try! KeyVersion(number) }

    @Test func generateMakesVersionOnePrimary() throws {
        let ring = try ring()
        #expect(ring.primaryVersion == .first)
        #expect(ring.versions.count == 1)
        #expect(ring.primary.state == .active && ring.primary.hasKeyMaterial)
        #expect(ring.primary.createdAt == Self.t0)
        let envelope = try ring.seal(Array("x".utf8), context: context)
        #expect(envelope.keyReference == (try KeyReference("orders", version: 1)))
    }

    @Test func creationTimeIsWholeSecondsWithinTheRecordableRange() throws {
        let ring = try KeyRing.generate(name: name, now: Self.t0.addingTimeInterval(0.75))
        #expect(ring.primary.createdAt == Self.t0)
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRing.generate(name: name, now: Date(timeIntervalSince1970: -1)) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRing.generate(name: name, now: Date(timeIntervalSince1970: 253_402_300_800)) }
    }

    /// Every ciphertext sealed under any earlier primary still opens after many rotations.
    @Test func rotationKeepsEveryOldCiphertextDecryptable() throws {
        var ring = try ring()
        var sealed: [(Envelope, [UInt8])] = []
        for round in 0..<6 {
            let plaintext = patternBytes(100 + round, seed: UInt64(round))
            sealed.append((try ring.seal(plaintext, context: context), plaintext))
            let added = try ring.rotate(now: Self.t0.addingTimeInterval(Double(round + 1) * 86_400))
            #expect(added.version == ring.primaryVersion)
            #expect(added.version.rawValue == UInt32(round + 2))
        }
        for (index, (envelope, plaintext)) in sealed.enumerated() {
            #expect(envelope.keyReference?.version.rawValue == UInt32(index + 1))
            #expect(try ring.open(envelope, context: context) == plaintext)
            #expect(try envelope.open(using: ring, context: context) == plaintext)  // as a resolver
        }
        #expect(ring.versions.allSatisfy { $0.state == .active })
    }

    /// Interleaving on a copy: the value that rotated opens what was sealed before and after;
    /// the old value still opens everything it sealed itself. No window in which either fails.
    @Test func rotatingACopyLeavesNoUndecryptableWindow() throws {
        let before = try ring()
        let sealedBefore = try before.seal(Array("before".utf8), context: context)
        var after = before
        try after.rotate(now: Self.t0.addingTimeInterval(60))
        let sealedBetween = try before.seal(Array("stale writer".utf8), context: context)  // an old snapshot keeps sealing
        let sealedAfter = try after.seal(Array("after".utf8), context: context)
        #expect(sealedBetween.keyReference?.version == .first)
        #expect(sealedAfter.keyReference?.version == v(2))
        #expect(try after.open(sealedBefore, context: context) == Array("before".utf8))
        #expect(try after.open(sealedBetween, context: context) == Array("stale writer".utf8))
        #expect(try after.open(sealedAfter, context: context) == Array("after".utf8))
        #expect(try before.open(sealedBefore, context: context) == Array("before".utf8))
        // The old value is unchanged by the copy's rotation (value semantics).
        #expect(before.versions.count == 1 && before.primaryVersion == .first)
    }

    /// Many tasks seal and immediately open through a shared ring while another task rotates it
    /// repeatedly: not one operation fails, and the final ring opens every envelope.
    @Test func concurrentSealWhileRotatingNeverFails() async throws {
        let shared = SharedKeyRing(try ring())
        let context = self.context
        let results = try await withThrowingTaskGroup(of: [(Envelope, [UInt8])].self) { group in
            group.addTask {
                for step in 1...25 {
                    try shared.rotate(now: Self.t0.addingTimeInterval(Double(step)))
                    await Task.yield()
                }
                return []
            }
            for worker in 0..<8 {
                group.addTask {
                    var sealed: [(Envelope, [UInt8])] = []
                    for item in 0..<40 {
                        let plaintext = patternBytes(32 + item, seed: UInt64(worker * 1000 + item))
                        let envelope = try shared.seal(plaintext, context: context)
                        #expect(try shared.open(envelope, context: context) == plaintext)
                        sealed.append((envelope, plaintext))
                        if item % 8 == 0 { await Task.yield() }
                    }
                    return sealed
                }
            }
            var all: [(Envelope, [UInt8])] = []
            for try await batch in group { all += batch }
            return all
        }
        #expect(results.count == 8 * 40)
        let final = shared.snapshot
        #expect(final.primaryVersion == v(26))
        for (envelope, plaintext) in results {
            #expect(try final.open(envelope, context: context) == plaintext)
        }
    }

    @Test func stagedRotationAddsBeforePromoting() throws {
        var ring = try ring()
        let added = try ring.addVersion(now: Self.t0.addingTimeInterval(1))
        #expect(ring.primaryVersion == .first)  // readers can learn v2 before anything is sealed under it
        #expect(try ring.seal([1]).keyReference?.version == .first)
        try ring.setPrimary(added.version)
        #expect(try ring.seal([1]).keyReference?.version == v(2))
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try ring.setPrimary(v(3)) }
        try ring.setState(.decryptOnly, for: .first)
        #expect(throws: CofferCryptoError(.keyStateChangeRefused)) { try ring.setPrimary(.first) }
    }

    @Test(arguments: [KeyVersionState.decryptOnly, .disabled, .destroyed])
    func primaryMustStayActive(state: KeyVersionState) throws {
        var ring = try ring()
        #expect(throws: CofferCryptoError(.keyStateChangeRefused)) { try ring.setState(state, for: .first) }
        try ring.setState(.active, for: .first)  // setting the current state is a no-op
        #expect(ring.primary.state == .active)
    }

    @Test func stateTransitions() throws {
        var ring = try ring()
        try ring.rotate(now: Self.t0)
        for state in [KeyVersionState.decryptOnly, .disabled, .active, .disabled, .decryptOnly, .active] {
            try ring.setState(state, for: .first)
            #expect(ring.version(.first)?.state == state)
            #expect(ring.version(.first)?.hasKeyMaterial == true)
        }
        try ring.setState(.destroyed, for: .first)
        #expect(ring.version(.first)?.hasKeyMaterial == false)
        for state in [KeyVersionState.active, .decryptOnly, .disabled] {
            #expect(throws: CofferCryptoError(.keyStateChangeRefused)) { try ring.setState(state, for: .first) }
        }
        try ring.setState(.destroyed, for: .first)  // still destroyed: a no-op, not an error
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try ring.setState(.disabled, for: v(3)) }
        // Versions are never reused: the next rotation is v3 even though v1 is gone.
        #expect(try ring.rotate(now: Self.t0).version == v(3))
    }

    @Test func decryptOnlyVersionsOpenButNeverSeal() throws {
        var ring = try ring()
        let old = try ring.seal(Array("old".utf8), context: context)
        try ring.rotate(now: Self.t0)
        try ring.setState(.decryptOnly, for: .first)
        #expect(try ring.open(old, context: context) == Array("old".utf8))
        #expect(try ring.seal([0]).keyReference?.version == v(2))
        let moved = try ring.rewrap(old)
        #expect(moved.keyReference?.version == v(2))
        #expect(try ring.open(moved, context: context) == Array("old".utf8))
    }

    /// Disabled and destroyed versions refuse with the distinct, header-only code through the
    /// ring, and as the plain authentication error through the generic resolver.
    @Test(arguments: [KeyVersionState.disabled, .destroyed])
    func unavailableVersionsRefuse(state: KeyVersionState) throws {
        var ring = try ring()
        let old = try ring.seal(Array("old".utf8), context: context)
        try ring.rotate(now: Self.t0)
        try ring.setState(state, for: .first)
        #expect(throws: CofferCryptoError(.keyVersionUnavailable)) { try ring.open(old, context: context) }
        #expect(throws: CofferCryptoError(.keyVersionUnavailable)) { try ring.rewrap(old) }
        #expect(try ring.keyEncryptionKey(for: old.keyReference!) == nil)
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try old.open(using: ring, context: context) }
        if state == .disabled {
            try ring.setState(.active, for: .first)  // re-enabled: opens again
            #expect(try ring.open(old, context: context) == Array("old".utf8))
        }
    }

    /// Envelopes for another ring, a version this ring never had, a wrong context or tampered
    /// bytes are all the one authentication error.
    @Test func everythingElseIsTheAuthenticationError() throws {
        let ring = try ring()
        let other = try KeyRing.generate(name: try KeyIdentifier("payments"), now: Self.t0)
        var later = ring
        try later.rotate(now: Self.t0)
        let fromOther = try other.seal([1], context: context)
        let fromLater = try later.seal([1], context: context)
        let own = try ring.seal([1], context: context)
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try ring.open(fromOther, context: context) }
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try ring.open(fromLater, context: context) }
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try ring.rewrap(fromOther) }
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try ring.open(own, context: ["tenant": "evil"]) }
        var bytes = own.bytes
        bytes[bytes.count - 1] ^= 1
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try ring.open(try Envelope(bytes: bytes), context: context) }
    }

    @Test func rewrapToThePrimaryKeepsThePayload() throws {
        var ring = try ring()
        let old = try ring.seal(patternBytes(500), context: context)
        #expect(try ring.rewrap(old) == old)  // already under the primary
        try ring.rotate(now: Self.t0)
        let moved = try ring.rewrap(old)
        #expect(moved.keyReference?.version == v(2))
        #expect(Array(moved.bytes.suffix(500 + 28)) == Array(old.bytes.suffix(500 + 28)))  // nonce, ciphertext, tag
        try ring.setState(.destroyed, for: .first)
        #expect(try ring.open(moved, context: context) == patternBytes(500))
    }

    /// The compressed flag is set only from the threshold up (and never when compression is off).
    @Test(arguments: [
        (Int?.none, 5000, false), (1000, 999, false), (1000, 1000, true), (1000, 5000, true), (0, 64, true),
    ])
    func compressionThresholdIsHonoured(threshold: Int?, size: Int, compressed: Bool) throws {
        let ring = try ring(try KeyRingSettings(compressionThreshold: threshold))
        let plaintext = [UInt8](repeating: UInt8(ascii: "a"), count: size)
        let envelope = try ring.seal(plaintext, context: context)
        #expect(envelope.isCompressed == compressed)
        #expect(try ring.open(envelope, context: context) == plaintext)
    }

    @Test(arguments: AEADAlgorithm.allCases)
    func algorithmSettingIsUsed(algorithm: AEADAlgorithm) throws {
        let ring = try ring(try KeyRingSettings(algorithm: algorithm))
        let envelope = try ring.seal(Array("x".utf8), context: context)
        #expect(envelope.algorithm == algorithm)
        #expect(try ring.open(envelope, context: context) == Array("x".utf8))
    }

    @Test func settingsAreValidated() throws {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRingSettings(compressionThreshold: -1) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRingSettings(compressionThreshold: Int(UInt32.max) + 1) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRingSettings(rotationPeriod: .zero) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRingSettings(rotationPeriod: .seconds(-5)) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRingSettings(rotationPeriod: .milliseconds(1500)) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try KeyRingSettings(rotationPeriod: .seconds(Int64(UInt32.max) + 1)) }
        _ = try KeyRingSettings(compressionThreshold: 0, rotationPeriod: .seconds(1))
    }

    @Test func rotationIsDueOncePeriodHasPassedSinceThePrimaryWasCreated() throws {
        var ring = try ring(try KeyRingSettings(rotationPeriod: .seconds(30 * 86_400)))
        #expect(!ring.isRotationDue(now: Self.t0))
        #expect(!ring.isRotationDue(now: Self.t0.addingTimeInterval(30 * 86_400 - 1)))
        #expect(ring.isRotationDue(now: Self.t0.addingTimeInterval(30 * 86_400)))
        try ring.rotate(now: Self.t0.addingTimeInterval(31 * 86_400))
        #expect(!ring.isRotationDue(now: Self.t0.addingTimeInterval(31 * 86_400)))
        #expect(!(try self.ring()).isRotationDue(now: Self.t0.addingTimeInterval(1e9)))  // no period, never due
    }

    /// Printing, debug-printing and dumping a ring or a version never shows key bytes.
    @Test func descriptionsHaveNoKeyBytes() throws {
        var ring = try ring(try KeyRingSettings(compressionThreshold: 100, rotationPeriod: .seconds(86_400)))
        try ring.rotate(now: Self.t0)
        try ring.setState(.decryptOnly, for: .first)
        var texts = [String(describing: ring), String(reflecting: ring), String(describing: ring.primary), String(reflecting: ring.primary)]
        var dumped = ""
        dump(ring, to: &dumped)
        texts.append(dumped)
        texts.append(String(describing: SharedKeyRing(ring)))
        // The mirror stops at public fields: no path from a dump to the key storage.
        #expect(!dumped.contains("material") && !dumped.contains("symmetricKey") && !dumped.contains("KeyEncryptionKey"))
        #expect(texts[0].contains("orders") && texts[0].contains("v1 decrypt-only") && texts[0].contains("primary v2"))
        for entry in ring.versions {
            let key = entry.material!.withUnsafeSecretBytes { Array($0) }
            let forms = [
                key.map { String(format: "%02x", $0) }.joined(), key.map { String(format: "%02X", $0) }.joined(),
                Data(key).base64EncodedString(), Base64URL.encode(key), String(decoding: key, as: UTF8.self),
                key.map(String.init).joined(separator: ", "),
            ]
            for text in texts {
                for form in forms { #expect(!text.contains(form)) }
            }
        }
    }
}

/// The ring as a stream recipient and identity.
@Suite struct KeyRingStreamTests {
    @Test func streamsSealToThePrimaryAndOpenWithAnyUsableVersion() throws {
        var ring = try KeyRing.generate(name: try KeyIdentifier("files"), now: KeyRingTests.t0)
        let plaintext = patternBytes(40_000)
        let old = try CofferStream.seal(plaintext, to: [ring], context: ["f": "1"])
        try ring.rotate(now: KeyRingTests.t0)
        let new = try CofferStream.seal(plaintext, to: [ring], context: ["f": "1"])
        #expect(try CofferStream.open(old, with: [ring], context: ["f": "1"]) == plaintext)
        #expect(try CofferStream.open(new, with: [ring], context: ["f": "1"]) == plaintext)
        try ring.setState(.disabled, for: .first)
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try CofferStream.open(old, with: [ring], context: ["f": "1"]) }
        try ring.setState(.decryptOnly, for: .first)
        #expect(try CofferStream.open(old, with: [ring], context: ["f": "1"]) == plaintext)
        let other = try KeyRing.generate(name: try KeyIdentifier("other"), now: KeyRingTests.t0)
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try CofferStream.open(new, with: [other], context: ["f": "1"]) }
    }
}
