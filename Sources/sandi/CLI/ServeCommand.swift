import ArgumentParser
import Foundation
import Logging
import SandiApp
import SandiCore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API and the delivery worker.")

    @OptionGroup var storage: StorageOptions
    @Option(help: "Address to listen on (env SANDI_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (env SANDI_PORT; default 8080).") var port: Int?
    @Flag(help: "Production mode (env SANDI_ENV=production): simulator off, default secrets refused.") var production = false

    func run() async throws {
        var extra: [String: String] = [:]
        if let host { extra["sandi.host"] = host }
        if let port { extra["sandi.port"] = String(port) }
        if production { extra["sandi.env"] = "production" }
        let configuration = try await storage.load(extra)
        let logger = Logs.bootstrap(level: configuration.logLevel)
        let system: SandiSystem
        do {
            system = try await SandiSystem.open(configuration, logger: logger)
        } catch let error as StartupError {
            throw ValidationError(error.description)
        }
        if let key = try await system.bootstrapDemoTenant() {
            let text = """
                Created tenant "demo". Its API key, shown once (also saved to \(configuration.dataDirectory)/demo-api-key, mode 0600):
                \(key)

                """
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let host = configuration.host
        try await system.run { port in
            logger.notice("Sandi listening", metadata: ["url": "http://\(host):\(port)", "simulator": "\(configuration.simulatorEnabled)"])
        }
    }
}
