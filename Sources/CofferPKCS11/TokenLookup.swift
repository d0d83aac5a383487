internal import CPKCS11

/// Finds the slot whose present token carries a given label.
enum TokenLookup {
    /// - Throws: ``PKCS11Error/Code/tokenNotFound`` if no token matches,
    ///   ``PKCS11Error/Code/ambiguousToken`` if several do: picking one of
    ///   two identically labelled tokens could put the root key on the wrong
    ///   device.
    static func slot(labeled label: String, functions: FunctionTable) throws(PKCS11Error) -> CK_SLOT_ID {
        var matches: [CK_SLOT_ID] = []
        for slot in try presentSlots(functions) {
            var info = CK_TOKEN_INFO()
            let rv = functions.getTokenInfo(slot, &info)
            // A token removed between the two calls is simply not a match.
            if rv == CK_RV(CKR_TOKEN_NOT_PRESENT) { continue }
            try check(rv, "C_GetTokenInfo")
            let field = withUnsafeBytes(of: info.label) { Array($0) }
            if TokenLabel.field(field, matches: label) { matches.append(slot) }
        }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw PKCS11Error(.tokenNotFound, detail: "no present token has the requested label")
        default: throw PKCS11Error(.ambiguousToken, detail: "several present tokens have the requested label")
        }
    }

    private static func presentSlots(_ functions: FunctionTable) throws(PKCS11Error) -> [CK_SLOT_ID] {
        let tokenPresent = CK_BBOOL(CK_TRUE)
        // The slot count can grow between the size query and the fetch
        // (hot-plugged tokens), so retry on CKR_BUFFER_TOO_SMALL.
        while true {
            var count: CK_ULONG = 0
            try check(functions.getSlotList(tokenPresent, nil, &count), "C_GetSlotList")
            if count == 0 { return [] }
            var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
            let rv = slots.withUnsafeMutableBufferPointer {
                functions.getSlotList(tokenPresent, $0.baseAddress, &count)
            }
            if rv == CK_RV(CKR_BUFFER_TOO_SMALL) { continue }
            try check(rv, "C_GetSlotList")
            return Array(slots.prefix(Int(count)))
        }
    }
}
