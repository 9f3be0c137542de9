import Configuration
import Foundation
public import SandiProviders

/// Providers described by configuration (`sandi.http.providers`, SANDI_HTTP_PROVIDERS: the path
/// of a JSON file with an array of ``HTTPProviderDefinition``; secrets in it may be written
/// `env:NAME` to read them from the environment).
public struct HTTPProviderSettings: Sendable {
    public var path: String
    public var definitions: [HTTPProviderDefinition] = []
    public var loadProblem: String?

    init?(reader: ConfigReader, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = reader.string(forKey: "sandi.http.providers").flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        self.path = path
        do {
            definitions = try HTTPProviderDefinition.load(Data(contentsOf: URL(fileURLWithPath: path)), environment: environment)
        } catch let error as DecodingError {
            loadProblem = "sandi.http.providers \(path): not a list of provider definitions (\(Self.describe(error)))"
        } catch {
            loadProblem = "sandi.http.providers \(path) could not be read"
        }
    }

    var problems: [String] {
        if let loadProblem { return [loadProblem] }
        var problems = definitions.flatMap(\.problems)
        let names = definitions.map(\.name)
        if Set(names).count != names.count { problems.append("sandi.http.providers: provider names must be unique") }
        return problems
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: "unreadable"
        }
    }
}
