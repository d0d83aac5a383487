internal import CPKCS11
internal import Glibc

/// A PKCS#11 attribute template (`CK_ATTRIBUTE[]`) whose values live in one
/// buffer that stays valid for the duration of a single call.
///
/// PKCS#11 passes attribute values as untyped pointers plus lengths; keeping
/// the construction in one place means no other code does that pointer
/// arithmetic. The buffer is wiped before it is freed so nothing read back
/// from the token outlives the call.
struct AttributeTemplate {
    enum Value {
        case bool(Bool)
        case ulong(UInt)
        case bytes([UInt8])

        fileprivate var byteCount: Int {
            switch self {
            case .bool: MemoryLayout<CK_BBOOL>.size
            case .ulong: MemoryLayout<CK_ULONG>.size
            case .bytes(let bytes): bytes.count
            }
        }
    }

    private var entries: [(type: CK_ATTRIBUTE_TYPE, value: Value)] = []

    init() {}

    mutating func append(_ type: UInt, _ value: Value) {
        entries.append((CK_ATTRIBUTE_TYPE(type), value))
    }

    /// Calls `body` with the template laid out in memory. Values written by
    /// the module (e.g. by `C_GetAttributeValue`) can be read back through
    /// the attributes' `pValue` pointers inside `body` only.
    func withAttributes<R>(_ body: (UnsafeMutableBufferPointer<CK_ATTRIBUTE>) -> R) -> R {
        let stride = MemoryLayout<CK_ULONG>.stride
        // Round each slot up so every CK_ULONG value is naturally aligned.
        let slots = entries.map { ($0.value.byteCount + stride - 1) / stride * stride }
        let total = max(slots.reduce(0, +), stride)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: stride)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        defer {
            explicit_bzero(storage, total)
            storage.deallocate()
        }

        var attributes: [CK_ATTRIBUTE] = []
        attributes.reserveCapacity(entries.count)
        var offset = 0
        for (index, entry) in entries.enumerated() {
            let slot = storage + offset
            switch entry.value {
            case .bool(let flag):
                slot.storeBytes(of: CK_BBOOL(flag ? CK_TRUE : CK_FALSE), as: CK_BBOOL.self)
            case .ulong(let number):
                slot.storeBytes(of: CK_ULONG(number), as: CK_ULONG.self)
            case .bytes(let bytes):
                bytes.withUnsafeBytes { source in
                    if let base = source.baseAddress { slot.copyMemory(from: base, byteCount: source.count) }
                }
            }
            attributes.append(CK_ATTRIBUTE(
                type: entry.type, pValue: slot, ulValueLen: CK_ULONG(entry.value.byteCount)))
            offset += slots[index]
        }
        return attributes.withUnsafeMutableBufferPointer { body($0) }
    }
}

extension CK_ATTRIBUTE {
    /// The `CK_BBOOL` value the module wrote into this attribute.
    var boolValue: Bool {
        pValue!.load(as: CK_BBOOL.self) != CK_BBOOL(CK_FALSE)
    }

    /// The `CK_ULONG` value the module wrote into this attribute.
    var ulongValue: UInt {
        UInt(pValue!.load(as: CK_ULONG.self))
    }
}
