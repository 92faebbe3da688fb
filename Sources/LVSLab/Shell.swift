import Foundation
import Subprocess

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
        let result = try await Subprocess.run(
            .path("/bin/bash"), arguments: Arguments(arguments),
            output: .string(limit: 4 << 20), error: .string(limit: 4 << 20))
        let status: Int32
        switch result.terminationStatus {
        case let .exited(code): status = code
        case let .signaled(signal): status = 128 + signal
        }
        return ShellResult(status: status, stdout: result.standardOutput, stderr: result.standardError)
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
