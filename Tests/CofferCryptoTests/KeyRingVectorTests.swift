import Foundation
import Testing

@testable import CofferCrypto

/// docs/vectors/coffer_key_ring_v1.json, built by `coffer-vectors` from the spec independently of
/// the library: valid rings decode to the listed fields and re-encode to the same bytes; invalid
/// encodings fail with `invalid_key_ring`.
@Suite struct KeyRingVectorTests {
    @Test func serializedRings() throws {
        let vectors = try FormatVectorTests.load("coffer_key_ring_v1")
        #expect(vectors.filter { $0["result"] as? String == "valid" }.count >= 3)
        #expect(vectors.filter { $0["result"] as? String == "invalid" }.count >= 10)
        for vector in vectors {
            let name = vector["description"] as! String
            let encoded = FormatVectorTests.bytes(vector["encoded"])
            guard vector["result"] as? String == "valid" else {
                #expect(vector["error"] as? String == "invalid_key_ring")
                #expect(throws: CofferCryptoError(.invalidKeyRing), "\(name)") { try KeyRing(encoded: encoded) }
                continue
            }
            let fields = vector["ring"] as! [String: Any]
            let ring = try KeyRing(encoded: encoded)
            #expect(ring.encoded() == encoded, "\(name)")
            #expect(ring.name.rawValue == fields["name"] as! String)
            #expect(Int(ring.settings.algorithm.rawValue) == fields["algorithm"] as! Int)
            #expect((ring.settings.compressionThreshold ?? -1) == fields["compressionThreshold"] as! Int)
            #expect(Int(ring.settings.rotationPeriodSeconds ?? -1) == fields["rotationPeriodSeconds"] as! Int)
            #expect(Int(ring.primaryVersion.rawValue) == fields["primary"] as! Int)
            let versions = fields["versions"] as! [[String: Any]]
            #expect(ring.versions.count == versions.count)
            for (entry, expected) in zip(ring.versions, versions) {
                #expect(Int(entry.version.rawValue) == expected["version"] as! Int)
                #expect(Int(entry.createdAt.timeIntervalSince1970) == expected["createdAt"] as! Int)
                #expect(Int(entry.state.rawValue) == expected["state"] as! Int)
                let key = entry.material.map { key in key.withUnsafeSecretBytes { Array($0) } } ?? []
                #expect(key == FormatVectorTests.bytes(expected["key"]), "\(name) \(entry.version)")
            }
        }
    }
}
