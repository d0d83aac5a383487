import CofferJSON

/// A response body written with ``JSONOutput`` instead of `JSONEncoder`: the crypto routes'
/// answers, which are most of the server's traffic. Members are written in sorted order, so the
/// bytes are what `JSONEncoder` with `.sortedKeys` writes (tested), and the `Encodable`
/// conformance stays the definition of the shape.
protocol JSONWritable {
    func write(to out: inout JSONOutput)
}

extension CryptoRoutes.EncryptResponse: JSONWritable {
    func write(to out: inout JSONOutput) {
        out.beginObject()
        out.member("ciphertext", ciphertext)
        out.member("key", key)
        out.member("version", version)
        out.endObject()
    }
}

extension CryptoRoutes.DecryptResponse: JSONWritable {
    func write(to out: inout JSONOutput) {
        out.beginObject()
        out.member("key", key)
        out.member("plaintext", plaintext)
        out.member("version", version)
        out.endObject()
    }
}

extension CryptoRoutes.ErrorBody: JSONWritable {
    func write(to out: inout JSONOutput) {
        out.beginObject()
        out.member("code", code)
        out.member("message", message)
        out.endObject()
    }
}

extension CryptoRoutes.BatchResult: JSONWritable where Item: JSONWritable {
    func write(to out: inout JSONOutput) {
        out.beginObject()
        out.key("results")
        out.beginArray()
        for item in results {
            out.beginObject()
            if let error = item.error {
                out.key("error")
                error.write(to: &out)
            }
            if let result = item.result {
                out.key("result")
                result.write(to: &out)
            }
            out.endObject()
        }
        out.endArray()
        out.endObject()
    }
}
