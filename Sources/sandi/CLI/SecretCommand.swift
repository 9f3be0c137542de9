import ArgumentParser
import Foundation
import Logging
import SandiApp
import SandiCore

struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "secret", abstract: "Manage the server's code-hashing keys.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new current code key to <data-dir>/code-keys.json; older keys still verify live codes.",
            discussion: "Restart `sandi serve` to issue with the new key. Keys given by SANDI_CODE_KEYS are rotated by changing that value (new key first).")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let configuration = try await storage.load()
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            print("new current key: \(try KeyringFile.rotate(directory: configuration.dataDirectory))")
        }
    }
}
