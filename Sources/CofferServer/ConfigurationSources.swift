import Configuration
import Foundation
import SystemPackage

/// Where `coffer server`'s settings come from, highest precedence first: the flags given on the
/// command line, `COFFER_`-prefixed environment variables (`tls.clientAuth` is
/// `COFFER_TLS_CLIENT_AUTH`), then a JSON file whose nesting spells the dotted names
/// (`{"tls": {"clientAuth": "optional"}}`).
public enum ConfigurationSources {
    public static func reader(
        flags: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment, file: String?
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
        return ConfigReader(providers: providers)
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
