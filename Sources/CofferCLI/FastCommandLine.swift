/// A fast path for the two commands scripts run most, `coffer encrypt` and `coffer decrypt`, in
/// front of swift-argument-parser.
///
/// Start-up matters for scripts that encrypt many small files, and swift-argument-parser builds
/// its model of a command by reflection (Mirror, dynamic casts, generic metadata): profiled, that
/// was about two thirds of the user time of `coffer encrypt` on a 1 KiB file
/// (docs/PERFORMANCE.md). This reads only a strict subset of the command line — the commands'
/// own options, each spelled exactly as `--help` lists them (`--name value`, `--name=value`,
/// `-x value`), flags at most once, single-valued options at most once, values not starting with
/// `-`, one input at most — and returns nil for anything else (help, a version request, `--`,
/// combined short flags, an unknown or repeated option, a value that looks like an option), which
/// then goes to swift-argument-parser exactly as before. So the fast path can only agree with it;
/// the tests check that on generated command lines.
enum FastCommandLine {
    enum Invocation: Equatable {
        case encrypt(EncryptOptions)
        case decrypt(DecryptOptions)
    }

    static func parse(_ arguments: [String]) -> Invocation? {
        guard let command = arguments.first else { return nil }
        let rest = arguments.dropFirst()
        switch command {
        case "encrypt": return parseEncrypt(rest).map(Invocation.encrypt)
        case "decrypt": return parseDecrypt(rest).map(Invocation.decrypt)
        default: return nil
        }
    }

    /// One option of a command: its spellings, and whether it takes a value.
    private struct Option {
        let short: Character?
        let long: String
        let takesValue: Bool
    }

    /// Options and values in order, or nil outside the subset.
    private static func tokens(_ arguments: ArraySlice<String>, options: [Option]) -> (named: [(String, String?)], input: String?)? {
        var named: [(String, String?)] = []
        var input: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-") else {
                guard input == nil, !argument.isEmpty else { return nil }
                input = argument
                continue
            }
            var name = argument, attached: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                attached = String(argument[argument.index(after: equals)...])
            }
            guard let option = options.first(where: { "--" + $0.long == name || ($0.short.map { "-\($0)" } == name) }) else { return nil }
            if option.takesValue {
                let value: String
                if let attached {
                    value = attached
                } else {
                    guard index < arguments.endIndex else { return nil }
                    value = arguments[index]
                    index += 1
                }
                guard !value.isEmpty, !value.hasPrefix("-") else { return nil }
                named.append((option.long, value))
            } else {
                guard attached == nil else { return nil }
                named.append((option.long, nil))
            }
        }
        // Repeats are swift-argument-parser's business, except for the repeatable options.
        let repeatable: Set<String> = ["recipient", "recipients-file", "identity"]
        var seen: Set<String> = []
        for (name, _) in named where !repeatable.contains(name) {
            guard seen.insert(name).inserted else { return nil }
        }
        return (named, input)
    }

    private static let encryptOptions = [
        Option(short: "r", long: "recipient", takesValue: true), Option(short: "R", long: "recipients-file", takesValue: true),
        Option(short: "p", long: "passphrase", takesValue: false), Option(short: nil, long: "passphrase-file", takesValue: true),
        Option(short: nil, long: "work-factor", takesValue: true), Option(short: "o", long: "output", takesValue: true),
        Option(short: "a", long: "armor", takesValue: false), Option(short: nil, long: "force", takesValue: false),
        Option(short: "q", long: "quiet", takesValue: false),
    ]

    static func parseEncrypt(_ arguments: ArraySlice<String>) -> EncryptOptions? {
        guard let (named, input) = tokens(arguments, options: encryptOptions) else { return nil }
        var options = EncryptOptions()
        options.input = input
        for (name, value) in named {
            switch name {
            case "recipient": options.recipients.append(value!)
            case "recipients-file": options.recipientFiles.append(value!)
            case "passphrase": options.usePassphrase = true
            case "passphrase-file": options.passphraseFile = value
            case "work-factor":
                // Exactly the digits UInt8 reads; anything else is for the parser to report.
                guard let factor = UInt8(value!), String(factor) == value else { return nil }
                options.workFactor = factor
            case "output": options.output = value
            case "armor": options.armor = true
            case "force": options.force = true
            case "quiet": options.quiet = true
            default: return nil
            }
        }
        return options
    }

    private static let decryptOptions = [
        Option(short: "i", long: "identity", takesValue: true), Option(short: nil, long: "identity-passphrase-file", takesValue: true),
        Option(short: nil, long: "identity-wrapping-key-file", takesValue: true), Option(short: "p", long: "passphrase", takesValue: false),
        Option(short: nil, long: "passphrase-file", takesValue: true), Option(short: nil, long: "range", takesValue: true),
        Option(short: "o", long: "output", takesValue: true), Option(short: nil, long: "mode", takesValue: true),
        Option(short: nil, long: "force", takesValue: false), Option(short: "q", long: "quiet", takesValue: false),
    ]

    static func parseDecrypt(_ arguments: ArraySlice<String>) -> DecryptOptions? {
        guard let (named, input) = tokens(arguments, options: decryptOptions) else { return nil }
        var options = DecryptOptions()
        options.input = input
        for (name, value) in named {
            switch name {
            case "identity": options.identityFiles.append(value!)
            case "identity-passphrase-file": options.identityPassphraseFile = value
            case "identity-wrapping-key-file": options.identityWrappingKeyFile = value
            case "passphrase": options.usePassphrase = true
            case "passphrase-file": options.passphraseFile = value
            case "range": options.range = value
            case "output": options.output = value
            case "mode": options.mode = value!
            case "force": options.force = true
            case "quiet": options.quiet = true
            default: return nil
            }
        }
        return options
    }
}
