import Foundation
import LVSLab
import Testing

/// `lvsctl status --watch` as a person sees it, in tmux: drawn in place and refreshed, still
/// refreshing after its director's sshd and sessions are killed (it says so), and gone on `q`.
/// The view's content is proven against a real table by `WatchFrameTests` and the lab VM.
@Suite(.serialized) struct StatusWatchTests {
    static func tmux(_ arguments: String) async throws -> String {
        try await Shell.bash("tmux \(arguments)").stdout
    }

    /// Polls the pane until `condition` holds on it (at most `seconds`); the last screen.
    static func screen(_ session: String, within seconds: Double, until condition: (String) -> Bool) async throws -> String {
        var text = ""
        for _ in 0..<Int(seconds * 4) {
            text = try await tmux("capture-pane -p -t \(session)")
            if condition(text) { return text }
            try await Task.sleep(for: .milliseconds(250))
        }
        return text
    }

    static func header(_ screen: String) -> [String] { screen.split(separator: "\n").map(String.init).filter { $0.hasPrefix("lvsctl status --watch") } }

    @Test func redrawnInPlaceSurvivesTheDirectorAndQuitsOnQ() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let session = "lvsctl-watch-\(getpid())"
            _ = try await Self.tmux("new-session -d -s \(session) -x 160 -y 30 '\(try lvsctlBinary()) status -i \(cluster.file) --watch --interval 0.5; echo EXITED $?; sleep 60'")
            defer { Task { _ = try? await Self.tmux("kill-session -t \(session)") } }

            let first = try await Self.screen(session, within: 20) { $0.contains("director host1") }
            #expect(first.contains("director host1"), "\(first)")
            // In place: one view on the screen, whose clock moves.
            let moved = try await Self.screen(session, within: 10) { Self.header($0).count == 1 && Self.header($0) != Self.header(first) }
            #expect(Self.header(moved).count == 1 && Self.header(moved) != Self.header(first), "\(first)\n---\n\(moved)")
            #expect(Self.header(moved).first?.hasSuffix("(q quits)") == true)

            try await lab.signal("KILL", host: lab["host1"])
            let gone = try await Self.screen(session, within: 20) { $0.contains("director host1: unreachable") }
            #expect(gone.contains("director host1: unreachable"), "\(gone)")
            let still = try await Self.screen(session, within: 20) { Self.header($0) != Self.header(gone) }
            #expect(Self.header(still) != Self.header(gone), "the view stopped refreshing:\n\(still)")

            _ = try await Self.tmux("send-keys -t \(session) q")
            let quit = try await Self.screen(session, within: 10) { $0.contains("EXITED") }
            #expect(quit.contains("EXITED 0"), "\(quit)")
        }
    }
}
