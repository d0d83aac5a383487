import CZlib

/// zlib (RFC 1950) from the system library, used only by the envelope's optional compression.
enum ZlibCompression {
    static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var outputLength = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(outputLength))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { inp in
                compress2(out.baseAddress, &outputLength, inp.baseAddress, uLong(input.count), level)
            }
        }
        guard status == Z_OK else { throw CofferCryptoError(.compressionFailed) }
        output.removeSubrange(Int(outputLength)...)
        return output
    }

    /// Inflates a complete zlib stream, refusing to produce more than `limit` bytes (a
    /// decompression bomb stops at the limit instead of exhausting memory) and refusing trailing
    /// bytes after the stream's end. Returns `nil` for any malformed input.
    static func decompress(_ input: [UInt8], limit: Int) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        return input.withUnsafeMutableBufferPointer { inp -> [UInt8]? in
            stream.next_in = inp.baseAddress
            stream.avail_in = uInt(inp.count)
            while true {
                let (status, produced) = buffer.withUnsafeMutableBufferPointer { buf -> (Int32, Int) in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = uInt(buf.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, buf.count - Int(stream.avail_out))
                }
                guard status == Z_OK || status == Z_STREAM_END else { return nil }
                guard output.count + produced <= limit else { return nil }
                output.append(contentsOf: buffer[..<produced])
                if status == Z_STREAM_END { return stream.avail_in == 0 ? output : nil }
                if produced == 0 && stream.avail_in == 0 { return nil }  // truncated stream
            }
        }
    }
}
