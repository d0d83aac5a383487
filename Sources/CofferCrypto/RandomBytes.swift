/// `count` bytes from the system CSPRNG (getrandom(2) on Linux, via the standard library's
/// `SystemRandomNumberGenerator`). The only source of randomness in Coffer's crypto core besides
/// swift-crypto's own key generation.
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = generator.next()
        let take = min(8, count - index)
        withUnsafeBytes(of: &word) { raw in
            for i in 0..<take { bytes[index + i] = raw[i] }
        }
        index += take
    }
    return bytes
}
