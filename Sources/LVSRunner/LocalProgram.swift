import Foundation
import Subprocess
import SystemPackage

/// A program run on this machine and awaited without holding a thread.
///
/// Swift's cooperative pool has one thread per core. A task that waits for a process with
/// `Process.waitUntilExit()` holds one of them for as long as the process runs, and on a 2-core
/// machine two such waits stop every other task: measured in the test suite, two template tests
/// whose scripts slept in a wait loop left 17 s in which no other test ended and the CPU was idle,
/// and an SSH test's 1 s timeout was seen after 20 s. Here the wait is a suspension.
public enum LocalProgram {
    public struct Result: Sendable, Equatable {
        public var status: Int32
        public var output: String
        public var errors: String
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `path` with `arguments`; `environment`, when given, is the whole environment.
    /// Output and errors are kept up to `limit` bytes each.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                           limit: Int = 4 << 20) async throws -> Result {
        let given: Environment = environment.map { values in
            .custom(Dictionary(uniqueKeysWithValues: values.compactMap { key, value in Environment.Key(rawValue: key).map { ($0, value) } }))
        } ?? .inherit
        let result = try await Subprocess.run(
            .path(FilePath(path)), arguments: Arguments(arguments), environment: given,
            output: .string(limit: limit), error: .string(limit: limit))
        let status: Int32
        switch result.terminationStatus {
        case let .exited(code): status = code
        case let .signaled(signal): status = 128 + signal
        }
        return Result(status: status, output: result.standardOutput, errors: result.standardError)
    }

    /// Runs `path` while `body` runs (its output and errors discarded), then kills it (SIGKILL)
    /// if it has not ended, and awaits its end: a server a test talks to, a program killed at a
    /// chosen moment. (Foundation's `Process` in the same process lost the end of a child now
    /// and then: a test waited for a killed lvsctl that stayed a zombie, and CI with it.)
    public static func whileRunning<T: Sendable>(_ path: String, _ arguments: [String],
                                                 _ body: @Sendable () async throws -> T) async throws -> T {
        let result = try await Subprocess.run(
            .path(FilePath(path)), arguments: Arguments(arguments), input: .none, output: .discarded, error: .discarded
        ) { execution in
            let value: Swift.Result<T, any Error>
            do { value = .success(try await body()) } catch { value = .failure(error) }
            try? execution.send(signal: .kill)
            return try value.get()
        }
        return result.closureResult
    }
}
