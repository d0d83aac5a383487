// coffer-bench: Coffer's formats next to raw swift-crypto and Python `cryptography`, in one run.
//
//   swift run -c release coffer-bench [pk] [--size-mib N] [--repeats N] [--no-python]
//
// `pk` runs only the public-key rows (HPKE X25519, X-Wing, RSA-OAEP stanzas and envelopes).
//
// Reports medians and, above all, ratios (the machine is noisy; ratios from one run are not).
// Progress goes to stderr; the result table to stdout. See docs/PERFORMANCE.md.
import CofferCrypto
import Crypto
import Foundation

struct Options {
    var sizeMiB = 1024
    var repeats = 3
    var python = true
    /// Only the public-key rows (`coffer-bench pk`).
    var publicKeyOnly = false

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--size-mib": sizeMiB = Int(iterator.next() ?? "") ?? sizeMiB
            case "--repeats": repeats = Int(iterator.next() ?? "") ?? repeats
            case "--no-python": python = false
            case "pk": publicKeyOnly = true
            default:
                FileHandle.standardError.write(Data("usage: coffer-bench [pk] [--size-mib N] [--repeats N] [--no-python]\n".utf8))
                exit(2)
            }
        }
    }
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data("… \(message)\n".utf8))
}

/// Median wall time of `repeats` runs of `body`, in seconds.
func measure(_ label: String, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for run in 1...repeats {
        progress("\(label) (run \(run)/\(repeats))")
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

/// Alternates runs of `a` and `b` and returns their median times and the median of the
/// per-pair ratios a/b: neighbours in time share the machine's load, so the ratio is steadier
/// than a ratio of medians taken minutes apart.
func measurePair(
    _ labelA: String, _ a: () throws -> Void, _ labelB: String, _ b: () throws -> Void, repeats: Int
) rethrows -> (a: Double, b: Double, ratio: Double) {
    var timesA: [Double] = []
    var timesB: [Double] = []
    for run in 1...repeats {
        timesA.append(try measure("\(labelA) [pair \(run)/\(repeats)]", repeats: 1, a))
        timesB.append(try measure("\(labelB) [pair \(run)/\(repeats)]", repeats: 1, b))
    }
    let ratios = zip(timesA, timesB).map { $0 / $1 }.sorted()
    return (timesA.sorted()[repeats / 2], timesB.sorted()[repeats / 2], ratios[repeats / 2])
}

let options = Options(CommandLine.arguments)
if options.publicKeyOnly {
    print("coffer-bench pk: median of \(options.repeats), \(ProcessInfo.processInfo.activeProcessorCount) cores")
    try runPublicKeyBench(repeats: options.repeats, python: options.python)
    exit(0)
}
let chunk = 16 * 1024
let size = options.sizeMiB * 1024 * 1024
let gigabytes = Double(size) / 1e9
let cores = ProcessInfo.processInfo.activeProcessorCount
progress("allocating \(options.sizeMiB) MiB of plaintext; \(cores) cores")
let plaintext = [UInt8](repeating: 0x5A, count: size)
let kek = KeyEncryptionKey.generate(reference: try KeyReference("bench", version: 1))
let feed = 4 * 1024 * 1024  // bytes handed to update() per call, as a file reader would

// Raw swift-crypto AES.GCM.seal / open over 16 KiB chunks: the floor Coffer adds its format to.
let rawKey = SymmetricKey(size: .bits256)
let rawNonce = AES.GCM.Nonce()
let rawSeal = try measure("raw swift-crypto AES.GCM.seal, 16 KiB chunks", repeats: options.repeats) {
    try plaintext.withUnsafeBytes { all in
        var offset = 0
        while offset < all.count {
            _ = try AES.GCM.seal(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + chunk)]), using: rawKey, nonce: rawNonce)
            offset += chunk
        }
    }
}
// The same, split across all cores: the in-process ceiling for parallel sealing.
let rawSealN = measure("raw swift-crypto AES.GCM.seal, 16 KiB chunks, \(cores) threads", repeats: options.repeats) {
    plaintext.withUnsafeBytes { buffer in
        nonisolated(unsafe) let all = buffer
        let chunks = all.count / chunk
        DispatchQueue.concurrentPerform(iterations: cores) { worker in
            let key = SymmetricKey(size: .bits256)
            for i in (worker * chunks / cores)..<((worker + 1) * chunks / cores) {
                _ = try! AES.GCM.seal(UnsafeRawBufferPointer(rebasing: all[(i * chunk)..<((i + 1) * chunk)]), using: key, nonce: rawNonce)
            }
        }
    }
}
progress("preparing raw sealed chunks")
var rawSealed: [UInt8] = []
rawSealed.reserveCapacity(size / chunk * (chunk + 16))
try plaintext.withUnsafeBytes { all in
    var offset = 0
    while offset < all.count {
        let box = try AES.GCM.seal(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + chunk)]), using: rawKey, nonce: rawNonce)
        rawSealed.append(contentsOf: box.ciphertext)
        rawSealed.append(contentsOf: box.tag)
        offset += chunk
    }
}
let rawOpen = try measure("raw swift-crypto AES.GCM.open, 16 KiB chunks", repeats: options.repeats) {
    try rawSealed.withUnsafeBytes { all in
        var offset = 0
        while offset < all.count {
            let box = try AES.GCM.SealedBox(
                nonce: rawNonce, ciphertext: UnsafeRawBufferPointer(rebasing: all[offset..<(offset + chunk)]),
                tag: UnsafeRawBufferPointer(rebasing: all[(offset + chunk)..<(offset + chunk + 16)]))
            _ = try AES.GCM.open(box, using: rawKey)
            offset += chunk + 16
        }
    }
}

func sealStream(concurrency: Int, keep: Bool) throws -> [UInt8] {
    var encryptor = try StreamEncryptor(recipients: [kek], concurrency: concurrency)
    // The sink discards (as writing to /dev/null would) unless the ciphertext is kept for open.
    var all: [UInt8] = []
    if keep { all.reserveCapacity(size + size / 1000 + 4096) }
    let sink: ByteSink = keep ? { all.append(contentsOf: $0) } : { _ in }
    try plaintext.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let end = min(offset + feed, buffer.count)
            try encryptor.update(rawBuffer: UnsafeRawBufferPointer(rebasing: buffer[offset..<end]), sink: sink)
            offset = end
        }
    }
    try encryptor.finish(sink: sink)
    return all
}

func openStream(_ ciphertext: [UInt8], concurrency: Int) throws {
    var decryptor = try StreamDecryptor(identities: [kek], concurrency: concurrency)
    var produced = 0
    try ciphertext.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let end = min(offset + feed, buffer.count)
            try decryptor.update(rawBuffer: UnsafeRawBufferPointer(rebasing: buffer[offset..<end])) { produced += $0.count }
            offset = end
        }
    }
    try decryptor.finish { produced += $0.count }
    precondition(produced == size, "decrypted size mismatch")
}

let sealPair = try measurePair(
    "Coffer stream seal, 1 core", { _ = try sealStream(concurrency: 1, keep: false) },
    "Coffer stream seal, \(cores) cores", { _ = try sealStream(concurrency: cores, keep: false) }, repeats: options.repeats)
let (streamSeal1, streamSealN) = (sealPair.a, sealPair.b)
progress("preparing ciphertext for open")
let ciphertext = try sealStream(concurrency: cores, keep: true)
let openPair = try measurePair(
    "Coffer stream open, 1 core", { try openStream(ciphertext, concurrency: 1) },
    "Coffer stream open, \(cores) cores", { try openStream(ciphertext, concurrency: cores) }, repeats: options.repeats)
let (streamOpen1, streamOpenN) = (openPair.a, openPair.b)

// Envelope: 1 KiB messages, seal + open per operation, next to raw AES.GCM.seal + open.
let message = [UInt8](repeating: 0x42, count: 1024)
let envelopeOps = 100_000
let envelopeTime = try measure("envelope seal+open, 1 KiB × \(envelopeOps)", repeats: options.repeats) {
    for _ in 0..<envelopeOps {
        let envelope = try Envelope.seal(message, using: kek)
        _ = try envelope.open(using: kek)
    }
}
let rawSmallTime = try measure("raw AES.GCM.seal+open, 1 KiB × \(envelopeOps)", repeats: options.repeats) {
    for _ in 0..<envelopeOps {
        let box = try AES.GCM.seal(message, using: rawKey)
        _ = try AES.GCM.open(box, using: rawKey)
    }
}

var pythonSeal: Double?
var pythonOpen: Double?
if options.python {
    progress("Python cryptography AESGCM, 16 KiB chunks (subprocess)")
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("bench/python_aesgcm.py").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script, String(options.sizeMiB), String(options.repeats)]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus == 0,
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Double]
    {
        pythonSeal = json["seal_gbps"]
        pythonOpen = json["open_gbps"]
    } else {
        progress("Python peer unavailable (pip install cryptography); skipping its column")
    }
}

func gbps(_ seconds: Double) -> Double { gigabytes / seconds }
func fmt(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

print("coffer-bench: \(options.sizeMiB) MiB in memory, median of \(options.repeats), \(cores) cores")
print("")
print("| measurement | GB/s | vs raw swift-crypto | vs Python cryptography |")
print("|---|---|---|---|")
func row(_ name: String, _ seconds: Double, raw: Double, python: Double?) {
    let pyRatio = python.map { fmt(gbps(seconds) / $0) + "×" } ?? "n/a"
    print("| \(name) | \(fmt(gbps(seconds))) | \(fmt(rawSeal / seconds * (raw / rawSeal)))× | \(pyRatio) |")
}
print("| raw swift-crypto AES.GCM.seal (16 KiB) | \(fmt(gbps(rawSeal))) | 1.00× | \(pythonSeal.map { fmt(gbps(rawSeal) / $0) + "×" } ?? "n/a") |")
print("| raw swift-crypto AES.GCM.seal (16 KiB), \(cores) threads | \(fmt(gbps(rawSealN))) | \(fmt(rawSeal / rawSealN))× | \(pythonSeal.map { fmt(gbps(rawSealN) / $0) + "×" } ?? "n/a") |")
print("| raw swift-crypto AES.GCM.open (16 KiB) | \(fmt(gbps(rawOpen))) | 1.00× | \(pythonOpen.map { fmt(gbps(rawOpen) / $0) + "×" } ?? "n/a") |")
if let pythonSeal, let pythonOpen {
    print("| Python cryptography AESGCM encrypt (16 KiB) | \(fmt(pythonSeal)) | \(fmt(pythonSeal / gbps(rawSeal)))× | 1.00× |")
    print("| Python cryptography AESGCM decrypt (16 KiB) | \(fmt(pythonOpen)) | \(fmt(pythonOpen / gbps(rawOpen)))× | 1.00× |")
}
row("Coffer stream seal, 1 core", streamSeal1, raw: rawSeal, python: pythonSeal)
row("Coffer stream open, 1 core", streamOpen1, raw: rawOpen, python: pythonOpen)
row("Coffer stream seal, \(cores) cores", streamSealN, raw: rawSeal, python: pythonSeal)
row("Coffer stream open, \(cores) cores", streamOpenN, raw: rawOpen, python: pythonOpen)
print("")
print("| scaling (median of alternating pairs) | ratio |")
print("|---|---|")
print("| stream seal, \(cores) cores ÷ 1 core | \(fmt(sealPair.ratio))× |")
print("| stream open, \(cores) cores ÷ 1 core | \(fmt(openPair.ratio))× |")
print("| raw swift-crypto seal, \(cores) threads ÷ 1 (ceiling) | \(fmt(rawSeal / rawSealN))× |")
print("")
let envelopeRate = Double(envelopeOps) / envelopeTime
let rawSmallRate = Double(envelopeOps) / rawSmallTime
print("| 1 KiB messages | seal+open ops/s | vs raw AES.GCM seal+open |")
print("|---|---|---|")
print("| raw swift-crypto AES.GCM seal+open | \(fmt(rawSmallRate, 0)) | 1.00× |")
print("| Coffer envelope seal+open | \(fmt(envelopeRate, 0)) | \(fmt(envelopeRate / rawSmallRate))× |")

// Fernet next to Python, and signed tokens (FernetBench.swift).
try runFernetBench(repeats: options.repeats, python: options.python)
// HPKE and RSA-OAEP recipients next to Python (PublicKeyBench.swift).
try runPublicKeyBench(repeats: options.repeats, python: options.python)
