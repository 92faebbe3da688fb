import Foundation
import LVSLab
@testable import LVSKit
import Testing
@testable import LVSRunner

/// verify's request script, run on this machine against a server on 127.0.0.1 that numbers
/// its connections: every request must be its own connection (the scheduler meets each), a
/// refused one an empty answer that does not stop the rest, with curl and without it.
@Suite(.serialized) struct VerifyRequestsTests {
    static let here = SourceLocation(file: "t", line: 1, column: 1)

    static func service(port: Int) -> VirtualService {
        let loopback = try! IPAddress.parse("127.0.0.1").get()
        return VirtualService(vip: loopback, address: .socket(.tcp, loopback, port: port), scheduler: .rr, persistence: nil,
                              realServers: [RealServer(host: "rs1", rip: loopback, port: port, weight: 1, location: here)], location: here)
    }

    /// A server that answers "connection N" to each connection, then closes it (at most 40); it
    /// writes the port it listens on to the file it is given.
    static let numberingServer = """
        import socket, sys
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
        open(sys.argv[1] + ".new", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".new", sys.argv[1])
        for n in range(1, 41):
            c, _ = s.accept(); c.settimeout(5)
            try:
                c.recv(4096); c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nconnection %d\\nsecond line\\n" % n)
            except OSError:
                pass
            c.close()
        """

    /// Runs `body` with the numbering server's port while the server runs.
    static func withNumberingServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lvsctl-numbering-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await LocalProgram.whileRunning("/usr/bin/env", ["python3", "-c", numberingServer, file]) {
            var port = 0
            for _ in 0..<200 where port == 0 {
                port = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int($0) } ?? 0
                if port == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(port > 0, "the numbering server did not start")
            try await body(port)
        }
    }

    /// "curl": the machine's PATH. "busybox": a PATH with only sh, awk and busybox (no curl, no
    /// wget), the fallback of a minimal host.
    @Test(arguments: ["curl", "busybox"])
    func eachRequestIsItsOwnConnection(tool: String) async throws {
        try await Self.withNumberingServer { port in try await Self.requests(tool: tool, port: port) }
    }

    static func requests(tool: String, port: Int) async throws {
        var script = VerifyRequests.script([service(port: port), service(port: LoopbackSocket.closedPort())],
                                           requests: 6, severalSources: false)
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("lvsctl-verify-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: bin) }
        if tool == "busybox" {
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            for program in ["sh", "awk", "busybox"] {
                let found = ["/usr/bin/\(program)", "/bin/\(program)"].first { FileManager.default.fileExists(atPath: $0) }
                try FileManager.default.createSymbolicLink(atPath: "\(bin)/\(program)", withDestinationPath: try #require(found))
            }
            script = "PATH=\(bin)\n" + script
        }
        let answers = VerifyRequests.parse(await Verifier.runLocally(script))
        #expect(answers == (1...6).map { VerifyRequests.Answer(service: 0, source: "-", body: "connection \($0) second line") }
                + (1...6).map { _ in VerifyRequests.Answer(service: 1, source: "-", body: "") })
    }
}
