// coffer-bench, Fernet and signed tokens: Coffer's Fernet next to Python `cryptography`'s Fernet
// (bench/python_fernet.py, run as a subprocess in the same run), and signed-token sign/verify.
import CofferCrypto
import Foundation

/// Median operations per second of `repeats` runs of `count` calls of `body`.
private func opsPerSecond(_ label: String, count: Int, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    Double(count) / (try measure("\(label) × \(count)", repeats: repeats) {
        for _ in 0..<count { try body() }
    })
}

private struct PythonFernetFigures: Decodable {
    let encrypt_ops, decrypt_ops, encrypt_gbps, decrypt_gbps: Double
}

private func pythonFernet(repeats: Int) -> PythonFernetFigures? {
    progress("Python cryptography Fernet, 1 KiB and 64 MiB (subprocess)")
    return runPythonPeer("python_fernet.py", [String(repeats)], as: PythonFernetFigures.self)
}

/// Fernet encrypt/decrypt of 1 KiB (ops/s) and 64 MiB (GB/s of plaintext) next to Python's,
/// and signed-token sign/verify of a 64-byte payload (ops/s). Prints two tables to stdout.
func runFernetBench(repeats: Int, python: Bool) throws {
    let fernet = Fernet(key: Fernet.generateKey())
    let small = [UInt8](repeating: 0x42, count: 1024)
    let smallToken = try fernet.encrypt(small)
    let ops = 100_000
    let encryptOps = try opsPerSecond("Fernet encrypt 1 KiB", count: ops, repeats: repeats) { _ = try fernet.encrypt(small) }
    let decryptOps = try opsPerSecond("Fernet decrypt 1 KiB", count: ops, repeats: repeats) { _ = try fernet.decrypt(smallToken) }

    let big = [UInt8](repeating: 0x5A, count: 64 * 1024 * 1024)
    let bigToken = try fernet.encrypt(big)
    let gb = Double(big.count) / 1e9
    let encryptGBps = gb / (try measure("Fernet encrypt 64 MiB", repeats: repeats) { _ = try fernet.encrypt(big) })
    let decryptGBps = gb / (try measure("Fernet decrypt 64 MiB", repeats: repeats) { _ = try fernet.decrypt(bigToken) })

    let ring = SigningKeyRing.generate()
    let purpose = try TokenPurpose("session")
    let payload = [UInt8](repeating: 0x61, count: 64)
    let signed = try ring.sign(payload, purpose: purpose, lifetime: .seconds(3600))
    let signOps = try opsPerSecond("token sign", count: ops, repeats: repeats) {
        _ = try ring.sign(payload, purpose: purpose, lifetime: .seconds(3600))
    }
    let verifyOps = try opsPerSecond("token verify", count: ops, repeats: repeats) { _ = try ring.verify(signed, purpose: purpose) }

    let peer = python ? pythonFernet(repeats: repeats) : nil
    if python && peer == nil { progress("Python Fernet peer unavailable (pip install cryptography); skipping its column") }
    func ratio(_ mine: Double, _ theirs: Double?) -> String { theirs.map { fmt(mine / $0) + "×" } ?? "n/a" }
    func pyCell(_ value: Double?, _ digits: Int) -> String { value.map { fmt($0, digits) } ?? "n/a" }

    print("")
    print("| Fernet | Coffer | Python cryptography | Coffer ÷ Python |")
    print("|---|---|---|---|")
    print("| encrypt 1 KiB (ops/s) | \(fmt(encryptOps, 0)) | \(pyCell(peer?.encrypt_ops, 0)) | \(ratio(encryptOps, peer?.encrypt_ops)) |")
    print("| decrypt 1 KiB (ops/s) | \(fmt(decryptOps, 0)) | \(pyCell(peer?.decrypt_ops, 0)) | \(ratio(decryptOps, peer?.decrypt_ops)) |")
    print("| encrypt 64 MiB (GB/s) | \(fmt(encryptGBps)) | \(pyCell(peer?.encrypt_gbps, 2)) | \(ratio(encryptGBps, peer?.encrypt_gbps)) |")
    print("| decrypt 64 MiB (GB/s) | \(fmt(decryptGBps)) | \(pyCell(peer?.decrypt_gbps, 2)) | \(ratio(decryptGBps, peer?.decrypt_gbps)) |")
    print("")
    print("| signed token, 64-byte payload | ops/s |")
    print("|---|---|")
    print("| sign | \(fmt(signOps, 0)) |")
    print("| verify | \(fmt(verifyOps, 0)) |")
}
