import Foundation

// MARK: key rings

/// Serialized key rings (docs/FORMAT.md, "Key ring file"), built field by field from the spec —
/// independently of the library's encoder, which the tests check against these bytes.
struct KeyRingVectorRing {
    struct Version {
        var version: UInt32
        var createdAt: UInt64
        var state: UInt8
        var key: [UInt8]?
    }
    var name: String
    var algorithm: UInt8
    var compressionThreshold: UInt32?
    var rotationPeriodSeconds: UInt32?
    var primary: UInt32
    var versions: [Version]

    var bytes: [UInt8] {
        var out: [UInt8] = [0xC0, 0xFF, 0xEE, 0x52, 0x01, UInt8(name.utf8.count)] + Array(name.utf8)
        out.append(algorithm)
        out.append((compressionThreshold == nil ? 0 : 1) | (rotationPeriodSeconds == nil ? 0 : 2))
        func u32(_ value: UInt32) { out += withUnsafeBytes(of: value.bigEndian, Array.init) }
        u32(compressionThreshold ?? 0)
        u32(rotationPeriodSeconds ?? 0)
        u32(primary)
        u32(UInt32(versions.count))
        for entry in versions {
            u32(entry.version)
            out += withUnsafeBytes(of: entry.createdAt.bigEndian, Array.init)
            out.append(entry.state)
            out += entry.key ?? []
        }
        return out
    }

    var json: [String: Any] {
        [
            "name": name, "algorithm": Int(algorithm),
            "compressionThreshold": compressionThreshold.map { Int($0) } ?? -1,
            "rotationPeriodSeconds": rotationPeriodSeconds.map { Int($0) } ?? -1,
            "primary": Int(primary),
            "versions": versions.map { entry -> [String: Any] in
                ["version": Int(entry.version), "createdAt": Int(entry.createdAt), "state": Int(entry.state), "key": entry.key.map(hex) ?? ""]
            },
        ]
    }
}

func keyRingVectors() -> [[String: Any]] {
    let t0: UInt64 = 1_700_000_000
    let rings: [(String, KeyRingVectorRing)] = [
        ("one version, defaults", KeyRingVectorRing(
            name: "orders", algorithm: 1, compressionThreshold: nil, rotationPeriodSeconds: nil, primary: 1,
            versions: [.init(version: 1, createdAt: t0, state: 1, key: filler(32, seed: 10))])),
        ("every state, compression and rotation period", KeyRingVectorRing(
            name: "billing.eu-1_v", algorithm: 2, compressionThreshold: 1024, rotationPeriodSeconds: 7_776_000, primary: 3,
            versions: [
                .init(version: 1, createdAt: t0, state: 4, key: nil),
                .init(version: 2, createdAt: t0 + 86_400, state: 3, key: filler(32, seed: 12)),
                .init(version: 3, createdAt: t0 + 2 * 86_400, state: 1, key: filler(32, seed: 13)),
                .init(version: 4, createdAt: t0 + 3 * 86_400, state: 2, key: filler(32, seed: 14)),
            ])),
        ("AES-256-GCM-SIV, staged version after the primary, threshold 0", KeyRingVectorRing(
            name: "a", algorithm: 3, compressionThreshold: 0, rotationPeriodSeconds: 1, primary: 1,
            versions: [
                .init(version: 1, createdAt: 0, state: 1, key: filler(32, seed: 15)),
                .init(version: 2, createdAt: 253_402_300_799, state: 1, key: filler(32, seed: 16)),
            ])),
    ]
    var vectors: [[String: Any]] = rings.map { description, ring in
        ["description": description, "result": "valid", "ring": ring.json, "encoded": hex(ring.bytes)]
    }
    let base = rings[1].1
    func variant(_ change: (inout KeyRingVectorRing) -> Void) -> [UInt8] {
        var ring = base
        change(&ring)
        return ring.bytes
    }
    let good = base.bytes
    let invalid: [(String, [UInt8])] = [
        ("format version 2", good.enumerated().map { $0.offset == 4 ? 2 : $0.element }),
        ("reserved flag bit", good.enumerated().map { $0.offset == 6 + 14 + 1 ? $0.element | 0x04 : $0.element }),
        ("unknown algorithm", variant { $0.algorithm = 4 }),
        ("primary is decrypt-only", variant { $0.primary = 4 }),
        ("primary is destroyed", variant { $0.primary = 1 }),
        ("primary beyond the versions", variant { $0.primary = 5 }),
        ("duplicate version", variant { $0.versions[2].version = 2 }),
        ("versions out of order", variant { $0.versions.swapAt(1, 2); $0.primary = 2 }),
        ("unknown state", variant { $0.versions[3].state = 5 }),
        ("destroyed version with key bytes", variant { $0.versions[0].key = filler(32, seed: 11) }),
        ("creation time after 9999", variant { $0.versions[3].createdAt = 253_402_300_800 }),
        ("truncated", Array(good.dropLast())),
        ("trailing byte", good + [0]),
    ]
    for (description, bytes) in invalid {
        vectors.append(["description": description, "result": "invalid", "error": "invalid_key_ring", "encoded": hex(bytes)])
    }
    return vectors
}
