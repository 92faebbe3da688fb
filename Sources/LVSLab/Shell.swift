import Foundation
import LVSRunner

/// The result of a local command.
public struct ShellResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { status == 0 }
}

public struct LabError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs bash scripts on this machine (the lab is built with ip, ssh-keygen and sshd).
public enum Shell {
    public static func bash(_ script: String) async throws -> ShellResult {
        // One argument may not exceed 128 KiB (MAX_ARG_STRLEN): a lab of a hundred hosts' setup
        // script does, so long scripts go through a file.
        var arguments = ["-c", script]
        var file: String?
        if script.utf8.count > 64 * 1024 {
            let path = NSTemporaryDirectory() + "lvsctl-script-\(UUID().uuidString).sh"
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            arguments = [path]
            file = path
        }
        defer { if let file { try? FileManager.default.removeItem(atPath: file) } }
        let result = try await LocalProgram.run("/bin/bash", arguments)
        return ShellResult(status: result.status, stdout: result.output, stderr: result.errors)
    }

    /// Runs `script` and fails with its stderr when it does.
    @discardableResult
    public static func bashChecked(_ script: String, what: String) async throws -> ShellResult {
        let result = try await bash(script)
        guard result.succeeded else {
            throw LabError("\(what) failed (exit \(result.status)): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result
    }

    /// Single-quotes a word for bash.
    public static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
