/// Ciphertext that can be read at any offset: a file, an object store range reader, or memory.
/// Errors thrown by `read` (I/O failures) are passed through unchanged.
public protocol RandomAccessCiphertext {
    /// Total ciphertext length in bytes.
    var count: Int { get }
    /// Exactly `count` bytes starting at `offset` (the caller stays within bounds).
    func read(from offset: Int, count: Int) throws -> [UInt8]
}

extension Array: RandomAccessCiphertext where Element == UInt8 {
    public func read(from offset: Int, count: Int) throws -> [UInt8] { Array(self[offset..<(offset + count)]) }
}
