import Configuration
import Foundation
import SystemPackage

/// Where `coffer server`'s settings come from, highest precedence first: the flags given on the
/// command line, `COFFER_`-prefixed environment variables (`tls.clientAuth` is
/// `COFFER_TLS_CLIENT_AUTH`), then a JSON file whose nesting spells the dotted names
/// (`{"tls": {"clientAuth": "optional"}}`).
public enum ConfigurationSources {
    /// - Parameter reporter: sees every read; ``MalformedValues`` collects the settings whose
    ///   value is set but cannot be read as its type.
    public static func reader(
        flags: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment, file: String?,
        reporter: MalformedValues? = nil
    ) async throws -> ConfigReader {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map { (AbsoluteConfigKey(ConfigKey($0.key)), typed($0.key, $0.value)) })),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "coffer"),
        ]
        if let file {
            try checkKnownKeys(inFile: file)
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigurationError("cannot read the configuration file \(file): it must be a JSON object")
            }
        }
        return ConfigReader(providers: providers, accessReporter: reporter)
    }

    /// `COFFER_*` variables that name no setting (misspelt ones would otherwise be ignored
    /// silently). Other Coffer tools' variables are not settings and are left out.
    public static func unknownEnvironmentVariables(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let known = Set(ServerConfiguration.knownKeys.map(environmentName))
        let otherTools: Set<String> = ["COFFER_BIN", "COFFER_PASSPHRASE", "COFFER_RING_PASSPHRASE", "COFFER_FERNET_KEYS", "COFFER_TOKEN_KEYS", "COFFER_VECTORS_DIR"]
        return environment.keys.filter {
            $0.hasPrefix("COFFER_") && !known.contains($0) && !otherTools.contains($0) && !$0.hasPrefix("COFFER_TEST_")
        }.sorted()
    }

    /// `tls.clientAuth` → `COFFER_TLS_CLIENT_AUTH`, as swift-configuration's environment provider maps names.
    public static func environmentName(_ key: String) -> String {
        var out = "COFFER"
        for component in key.split(separator: ".") {
            out += "_"
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase { out += "_" }
                out += character.uppercased()
                previous = character
            }
        }
        return out
    }

    /// A flag's text as the type its setting is read as (swift-configuration does not convert a
    /// string into a number for an int setting).
    static func typed(_ key: String, _ text: String) -> ConfigValue {
        if ServerConfiguration.integerKeys.contains(key), let number = Int(text) { return ConfigValue(.int(number), isSecret: false) }
        if ServerConfiguration.booleanKeys.contains(key), let flag = Bool(text) { return ConfigValue(.bool(flag), isSecret: false) }
        return ConfigValue(.string(text), isSecret: false)
    }

    /// Refuses a configuration file that names a setting this version does not know.
    static func checkKnownKeys(inFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("cannot read the configuration file \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("the configuration file \(path) is not a JSON object")
        }
        var unknown: [String] = []
        func walk(_ object: [String: Any], _ prefix: String) {
            for (key, value) in object {
                let name = prefix.isEmpty ? key : prefix + "." + key
                if let nested = value as? [String: Any], !ServerConfiguration.knownKeys.contains(name) {
                    walk(nested, name)
                } else if !ServerConfiguration.knownKeys.contains(name) {
                    unknown.append(name)
                }
            }
        }
        walk(object, "")
        guard unknown.isEmpty else {
            throw ConfigurationError("unknown setting\(unknown.count == 1 ? "" : "s") in \(path): \(unknown.sorted().joined(separator: ", ")) (docs/CONFIGURATION.md lists them)")
        }
    }
}

/// Collects the settings read with a value that does not convert to the type asked for (or a
/// provider that failed on them): swift-configuration's non-throwing reads fall back to the
/// default there, and a `listen.port` of `84four3` must stop the server, not become 8443.
public final class MalformedValues: AccessReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: Set<String> = []

    public init() {}

    public func report(_ event: AccessEvent) {
        let failed = event.conversionError != nil || event.providerResults.contains { if case .failure = $0.result { true } else { false } }
        guard failed else { return }
        lock.lock()
        keys.insert(event.metadata.key.components.joined(separator: "."))
        lock.unlock()
    }

    public var settings: [String] {
        lock.lock()
        defer { lock.unlock() }
        return keys.sorted()
    }
}
