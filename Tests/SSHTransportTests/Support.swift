import Foundation
import LVSLab
import SSHTransport
import Testing

/// The test process's own temporary folder, removed when it exits: the tests' keys and
/// known_hosts files are not left behind run after run.
private let processFolder: String = {
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "lvsctl-tests-\(getpid())") }
    return NSTemporaryDirectory() + "lvsctl-tests-\(getpid())"
}()

/// A private temporary folder for one test.
func temporaryFolder() throws -> String {
    let path = processFolder + "/" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Generates a user key with ssh-keygen; answers the private key's path.
func generateKey(_ type: String, passphrase: String = "", in folder: String, name: String? = nil) async throws -> String {
    let path = "\(folder)/\(name ?? "id_\(type)")"
    let bits = type == "rsa" ? "-b 2048" : ""
    try await Shell.bashChecked("ssh-keygen -q -t \(type) \(bits) -N \(Shell.quote(passphrase)) -C test -f \(Shell.quote(path))",
                                what: "ssh-keygen")
    return path
}

func publicKeyLine(of privateKey: String) throws -> String {
    try String(contentsOfFile: privateKey + ".pub", encoding: .utf8)
}

/// Lab options with other authentication methods.
func options(_ lab: Lab, auth: [AuthMethod]) -> SSHOptions {
    var options = lab.sshOptions
    options.authentication = auth
    return options
}

/// Expects `body` to throw an SSHError and answers it.
func expectSSHError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> SSHError? {
    do {
        try await body()
        Issue.record("expected an SSHError, got success", sourceLocation: sourceLocation)
    } catch let error as SSHError {
        return error
    } catch {
        Issue.record("expected an SSHError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

enum LVSLabShell {
    /// `SHA256:…` of a public key file, as ssh-keygen prints it.
    static func fingerprint(_ publicKeyFile: String) async throws -> String {
        let result = try await Shell.bashChecked("ssh-keygen -l -E sha256 -f \(Shell.quote(publicKeyFile))", what: "ssh-keygen -l")
        return String(result.stdout.split(separator: " ")[1])
    }
}
