// coffer-bench, public-key recipients: one stanza's wrap and unwrap (seal a 32-byte key to a public
// key, open it) for X25519 HPKE, X-Wing HPKE and RSA-OAEP-SHA256 2048/3072/4096, next to Python
// `cryptography` doing the same operation (bench/python_pk.py, a subprocess in the same run), and a
// whole 1 KiB envelope sealed to / opened by each kind. `coffer-bench pk` runs only this part.
import CofferCrypto
import Foundation

/// Median operations per second of `repeats` runs, each of as many calls of `body` as take about
/// `seconds` (calibrated first, so a 100-op/s RSA-4096 decryption and a 50 000-op/s wrap both
/// get a run long enough to time and short enough to finish).
private func calibratedRate(_ label: String, repeats: Int, seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    var count = 1
    var elapsed = 0.0
    while true {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count { try body() }
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if elapsed >= seconds / 4 { break }
        count *= 2
    }
    let n = max(1, Int(Double(count) * seconds / elapsed))
    return Double(n) / (try measure("\(label) × \(n)", repeats: repeats) {
        for _ in 0..<n { try body() }
    })
}

/// Python's figures for one kind (`x25519`, `xwing`, `rsa2048`, …), measured by a subprocess run
/// right after Coffer's rows for that kind.
private func pythonPublicKey(kind: String, repeats: Int, seconds: Double) -> [String: Double]? {
    progress("Python cryptography \(kind) (subprocess)")
    return runPythonPeer("python_pk.py", [String(repeats), String(seconds), kind], as: [String: Double].self)
}

/// Prints two tables to stdout: stanza wrap/unwrap ops/s with the Python peer, and envelope
/// seal/open ops/s for 1 KiB messages.
func runPublicKeyBench(repeats: Int, python: Bool, seconds: Double = 0.5) throws {
    progress("generating key pairs (RSA 2048, 3072, 4096)")
    let x25519 = X25519Identity.generate()
    let xwing = try XWingIdentity.generate()
    var kinds: [(name: String, key: String, recipient: any Recipient, identity: any Identity)] = [
        ("HPKE X25519 (DHKEM-X25519, HKDF-SHA256, AES-256-GCM)", "x25519", x25519.recipient, x25519),
        ("HPKE X-Wing (ML-KEM-768 + X25519)", "xwing", xwing.recipient, xwing),
    ]
    for bits in [2048, 3072, 4096] {
        let rsa = try RSAIdentity.generate(bits: bits)
        kinds.append(("RSA-OAEP-SHA256 \(bits)", "rsa\(bits)", rsa.recipient, rsa))
    }

    let dataKey = DataKey.generate()
    let message = [UInt8](repeating: 0x42, count: 1024)
    var rows: [(name: String, key: String, wrap: Double, unwrap: Double, seal: Double, open: Double)] = []
    var peer: [String: Double] = [:]
    var peerMissing = false
    for kind in kinds {
        let stanza = try kind.recipient.stanza(wrapping: dataKey)
        guard try kind.identity.inputKey(from: [stanza]) == dataKey else { fatalError("\(kind.key) stanza does not round-trip") }
        let wrap = try calibratedRate("\(kind.key) stanza wrap", repeats: repeats, seconds: seconds) {
            _ = try kind.recipient.stanza(wrapping: dataKey)
        }
        let unwrap = try calibratedRate("\(kind.key) stanza unwrap", repeats: repeats, seconds: seconds) {
            _ = try kind.identity.inputKey(from: [stanza])
        }
        if python {
            if let figures = pythonPublicKey(kind: kind.key, repeats: repeats, seconds: seconds) {
                peer.merge(figures) { $1 }
            } else {
                peerMissing = true
            }
        }
        let envelope = try Envelope.seal(message, to: [kind.recipient])
        let seal = try calibratedRate("\(kind.key) envelope seal 1 KiB", repeats: repeats, seconds: seconds) {
            _ = try Envelope.seal(message, to: [kind.recipient])
        }
        let open = try calibratedRate("\(kind.key) envelope open 1 KiB", repeats: repeats, seconds: seconds) {
            _ = try envelope.open(with: [kind.identity])
        }
        rows.append((kind.name, kind.key, wrap, unwrap, seal, open))
    }

    if peerMissing { progress("Python peer unavailable for some kinds (pip install cryptography); n/a in its column") }
    func ratio(_ mine: Double, _ theirs: Double?) -> String { theirs.map { fmt(mine / $0) + "×" } ?? "n/a" }
    func pyCell(_ value: Double?) -> String { value.map { fmt($0, 0) } ?? "n/a" }

    print("")
    print("| public-key stanza (32-byte key) | Coffer ops/s | Python cryptography ops/s | Coffer ÷ Python |")
    print("|---|---|---|---|")
    for row in rows {
        let theirs = (wrap: peer["\(row.key)_wrap"], unwrap: peer["\(row.key)_unwrap"])
        print("| \(row.name) wrap | \(fmt(row.wrap, 0)) | \(pyCell(theirs.wrap)) | \(ratio(row.wrap, theirs.wrap)) |")
        print("| \(row.name) unwrap | \(fmt(row.unwrap, 0)) | \(pyCell(theirs.unwrap)) | \(ratio(row.unwrap, theirs.unwrap)) |")
    }
    print("")
    print("| envelope to one recipient, 1 KiB | seal ops/s | open ops/s |")
    print("|---|---|---|")
    for row in rows {
        print("| \(row.name) | \(fmt(row.seal, 0)) | \(fmt(row.open, 0)) |")
    }
}
